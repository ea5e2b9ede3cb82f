// Live console: follows the event log over Server-Sent Events and updates module chips,
// the "needs a person" list and the event feed. No framework, shipped in the package.
(function () {
  "use strict";
  const feed = document.getElementById("feed");
  if (!feed) return;
  const downList = document.getElementById("down-list");
  const allClear = document.getElementById("all-clear");
  const attention = document.getElementById("attention");
  const params = new URLSearchParams();
  for (const type of feed.dataset.types.split(",")) params.append("type", type);
  params.set("after", feed.dataset.after || "0");

  function setState(module, state) {
    const chip = document.getElementById("module-" + module);
    if (chip) chip.className = "chip " + state;
  }
  function refreshAttention() {
    const empty = downList.children.length === 0;
    allClear.hidden = !empty;
    attention.classList.toggle("calm", empty);
  }
  function markDown(module, down) {
    const existing = downList.querySelector('[data-module="' + CSS.escape(module) + '"]');
    if (down && !existing) {
      const item = document.createElement("li");
      item.dataset.module = module;
      item.textContent = module + " — " + (feed.dataset.downLabel || "down");
      downList.appendChild(item);
    } else if (!down && existing) {
      existing.remove();
    }
    refreshAttention();
  }
  function log(kind, data) {
    const item = document.createElement("li");
    item.textContent = new Date(data.at).toISOString().slice(0, 19).replace("T", " ") + "  " + kind + "  " +
      (data.data.module || "") + " " + (data.data.operation_id || data.data.order_id || "");
    feed.prepend(item);
    while (feed.children.length > 200) feed.lastChild.remove();
  }
  const handlers = {
    OperationStarted: (d) => setState(d.data.module, "execute"),
    OperationCompleted: (d) => setState(d.data.module, "idle"),
    ModuleFaulted: (d) => { setState(d.data.module, "down"); markDown(d.data.module, true); },
    ModuleRepaired: (d) => { setState(d.data.module, "idle"); markDown(d.data.module, false); },
    OrderDelivered: () => {},
  };
  const source = new EventSource("/v1/events/stream?" + params.toString());
  for (const [kind, apply] of Object.entries(handlers)) {
    source.addEventListener(kind, (message) => {
      const data = JSON.parse(message.data);
      apply(data);
      log(kind, data);
    });
  }
})();
