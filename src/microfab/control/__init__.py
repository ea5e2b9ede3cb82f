"""Control: wires engines to adapters — apply manifests, place orders, run the loops that need no human."""
