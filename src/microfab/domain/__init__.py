"""The vocabulary of microfab: plain data and rules, standard library only, no I/O."""
