// The buttons that call service A's /call, and the list of its answers, newest first.

const BURST_CALLS = 20;
const BURST_AT_ONCE = 5;
const KEEP = 6;
// How long the page waits for an answer before saying there was none; service A's own
// timeouts are shorter unless its flags say otherwise.
const CALL_TIMEOUT_MS = 30000;

let answers;
let empty;

// success, failure from B, or the breaker's rejection (whose message starts `Circuit "name"`).
function kindOf(status, body) {
  if (status === 200) return "successful";
  return typeof body.message === "string" && body.message.startsWith("Circuit ") ? "rejected" : "failed";
}

// Adds an answer; one of the same status and kind as the newest is folded into it, with a
// count, so that a burst of rejections takes one line, not fifteen.
function show(status, took, message, kind) {
  const newest = answers.firstElementChild;
  if (newest && newest.dataset.status === status && newest.className === kind) {
    newest.dataset.count = String(Number(newest.dataset.count) + 1);
    fill(newest, took, message);
    return;
  }
  const item = document.createElement("li");
  item.className = kind;
  item.dataset.status = status;
  item.dataset.count = "1";
  const statusCell = document.createElement("span");
  statusCell.className = "status";
  statusCell.textContent = status;
  const tookCell = document.createElement("span");
  tookCell.className = "took";
  const bodyCell = document.createElement("span");
  bodyCell.className = "body";
  const countCell = document.createElement("span");
  countCell.className = "count";
  item.append(statusCell, tookCell, bodyCell, countCell);
  fill(item, took, message);
  answers.prepend(item);
  empty.hidden = true;
  while (answers.children.length > KEEP) answers.lastElementChild.remove();
}

function fill(item, took, message) {
  item.querySelector(".took").textContent = `${took.toFixed(0)} ms`;
  item.querySelector(".body").textContent = message;
  const count = Number(item.dataset.count);
  item.querySelector(".count").textContent = count > 1 ? `×${count}` : "";
}

async function call(fail) {
  const started = performance.now();
  try {
    // no-store: a browser may otherwise queue identical GETs behind one another (its cache
    // lock), and the burst would not be five calls at a time.
    const answer = await fetch(fail ? "/call?fail=true" : "/call", {
      cache: "no-store",
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const body = await answer.json();
    const took = performance.now() - started;
    show(String(answer.status), took, body.data ?? body.message ?? JSON.stringify(body), kindOf(answer.status, body));
  } catch (error) {
    show("—", performance.now() - started, `no answer: ${error.message}`, "failed");
  }
}

async function burst(button) {
  button.disabled = true;
  try {
    let next = 0;
    const worker = async () => {
      while (next < BURST_CALLS) {
        next += 1;
        await call(true);
      }
    };
    await Promise.all(Array.from({ length: BURST_AT_ONCE }, worker));
  } finally {
    button.disabled = false;
  }
}

export function setUpCalls(list, emptyNote) {
  answers = list;
  empty = emptyNote;
  document.getElementById("call-healthy").addEventListener("click", () => call(false));
  document.getElementById("call-failing").addEventListener("click", () => call(true));
  const burstButton = document.getElementById("call-burst");
  burstButton.addEventListener("click", () => burst(burstButton));
}
