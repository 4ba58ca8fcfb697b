// The transitions, newest first, each with the reason the breaker gave.

// The most entries kept on the page; the server replays at most 50 on connecting.
const KEEP = 50;

const MANUAL = new Set(["forced_open", "disabled"]);

export class Timeline {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
    this.manual = false;
  }

  clear() {
    this.list.replaceChildren();
    this.empty.hidden = false;
    this.manual = false;
  }

  sawManualState() {
    return this.manual;
  }

  // One transition event: {"from","to","reason","at"}.
  add(transition) {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = transition.at;
    time.textContent = new Date(transition.at).toLocaleTimeString("en-GB");
    const change = document.createElement("span");
    change.className = "change";
    const to = document.createElement("span");
    to.className = "to";
    to.dataset.state = transition.to;
    to.textContent = transition.to.toUpperCase();
    change.append(`${transition.from.toUpperCase()} → `, to);
    const reason = document.createElement("span");
    reason.className = "reason";
    reason.textContent = transition.reason;
    item.append(time, change, reason);
    this.prepend(item);
    this.manual ||= MANUAL.has(transition.to);
  }

  // This page read too slowly and the server skipped `missed` transitions.
  gap(missed) {
    const item = document.createElement("li");
    item.className = "gap";
    item.textContent = `${missed} transition${missed === 1 ? "" : "s"} not shown: this page fell behind.`;
    this.prepend(item);
  }

  prepend(item) {
    this.list.prepend(item);
    this.empty.hidden = true;
    while (this.list.children.length > KEEP) {
      this.list.lastElementChild.remove();
    }
  }
}
