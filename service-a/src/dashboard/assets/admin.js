// The admin actions (POST /breaker), shown once a token is typed in.
//
// The token lives in the password field of this tab only: it is sent in the Authorization
// header, never put in a URL (URLs end up in server logs, browser history and Referer headers)
// and never stored (localStorage would keep it on disk, readable by any script of this origin).

const TIMEOUT_MS = 10000;

function field() {
  return document.getElementById("admin-token");
}

function say(message, ok) {
  const result = document.getElementById("admin-result");
  result.textContent = message;
  result.dataset.ok = String(ok);
}

function showButtons() {
  document.getElementById("admin-buttons").hidden = field().value.trim() === "";
}

async function perform(button) {
  const body = { action: button.dataset.action };
  if (button.dataset.duration) body.duration = button.dataset.duration;
  try {
    const answer = await fetch("/breaker", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${field().value.trim()}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const view = await answer.json();
    if (answer.ok) {
      say(`Done: ${body.action}${body.duration ? ` ${body.duration}` : ""}; the circuit is ${view.state.toUpperCase()}.`, true);
      return;
    }
    say(view.message, false);
    if (answer.status === 401) {
      // A wrong token is forgotten at once, and the buttons hidden again.
      field().value = "";
      showButtons();
    }
  } catch (error) {
    say(`No answer: ${error.message}`, false);
  }
}

export function setUpAdmin() {
  field().addEventListener("input", showButtons);
  for (const button of document.querySelectorAll("#admin-buttons button")) {
    button.addEventListener("click", () => perform(button));
  }
  showButtons();
}
