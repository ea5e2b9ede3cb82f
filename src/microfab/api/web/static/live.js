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
  const alertList = document.getElementById("alert-list");
  function refreshAttention() {
    const empty = downList.children.length === 0 && alertList.children.length === 0;
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
  function alertItem(id) {
    return alertList.querySelector('[data-alert="' + CSS.escape(id) + '"]');
  }
  function taken(item, who) {
    const form = item.querySelector("form");
    if (form) form.remove();
    if (item.querySelector(".taken")) return;
    const note = document.createElement("span");
    note.className = "taken";
    note.textContent = (feed.dataset.takenLabel || "taken on by {who}").replace("{who}", who);
    item.appendChild(note);
  }
  function raise(d) {
    if (alertItem(d.data.alert_id)) return;
    const item = document.createElement("li");
    item.dataset.alert = d.data.alert_id;
    const subject = document.createElement("b");
    subject.textContent = d.data.subject;
    item.append(subject, " — " + d.data.message + " ");
    if (feed.dataset.ackLabel) {
      const form = document.createElement("form");
      form.method = "post";
      form.className = "inline";
      form.action = "/console/alerts/" + encodeURIComponent(d.data.alert_id) + "/acknowledge";
      const button = document.createElement("button");
      button.type = "submit";
      button.textContent = feed.dataset.ackLabel;
      form.appendChild(button);
      item.appendChild(form);
    }
    alertList.appendChild(item);
    refreshAttention();
  }
  function clear(d) {
    const item = alertItem(d.data.alert_id);
    if (item) item.remove();
    refreshAttention();
  }
  function log(kind, data) {
    const item = document.createElement("li");
    item.textContent = new Date(data.at).toISOString().slice(0, 19).replace("T", " ") + "  " + kind + "  " +
      (data.data.module || data.data.subject || "") + " " + (data.data.operation_id || data.data.order_id || data.data.alert_id || "");
    feed.prepend(item);
    while (feed.children.length > 200) feed.lastChild.remove();
  }
  const handlers = {
    OperationStarted: (d) => setState(d.data.module, "execute"),
    OperationCompleted: (d) => setState(d.data.module, "idle"),
    ModuleFaulted: (d) => { setState(d.data.module, "down"); markDown(d.data.module, true); },
    ModuleRepaired: (d) => { setState(d.data.module, "idle"); markDown(d.data.module, false); },
    OrderDelivered: () => {},
    AlertRaised: raise,
    AlertCleared: clear,
    AlertAcknowledged: (d) => { const item = alertItem(d.data.alert_id); if (item) taken(item, d.data.by); },
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
