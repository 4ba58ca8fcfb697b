// The state: its name in words, the lit box of the diagram, and the countdown while Open.

const MEANING = {
  closed: "Calls flow to service B; the trip policy counts the failures.",
  open: "Calls are rejected at once, without touching service B.",
  half_open: "The next call is a probe: its success closes the circuit, its failure opens it again.",
  forced_open: "Opened by an admin: every call is rejected until a reset.",
  disabled: "Disabled by an admin: every call flows and nothing trips until a reset.",
};

// The countdown is redrawn this often between snapshots, from the time the last one gave.
const TICK_MS = 100;

let successThreshold = 1; // probes that must succeed to close the circuit, from GET /breaker
let openUntil = null; // performance.now() when a probe may pass, while Open
let openFor = null; // the longest remaining time seen in this open period, for the bar
let ticking = null;

function seconds(ms) {
  return `${Math.max(0, ms / 1000).toFixed(1)} s`;
}

function humanDuration(ms) {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

// The settings of GET /breaker label the diagram's arrows with this breaker's own rules.
export function showSettings(view) {
  document.getElementById("breaker-name").textContent = view.name;
  const config = view.config;
  successThreshold = config.success_threshold;
  const trips = [];
  if (config.failure_threshold !== null) trips.push(`${config.failure_threshold} consecutive failures`);
  if (config.failure_rate_threshold !== null) trips.push(`${config.failure_rate_threshold} % failures`);
  if (config.slow_call_rate_threshold !== null && config.slow_call_threshold_ms !== null) {
    trips.push(`${config.slow_call_rate_threshold} % slow calls`);
  }
  document.getElementById("trip-label").textContent = trips.join(" or ") || "trip policy fires";
  document.getElementById("recovery-label").textContent = `after ${humanDuration(config.recovery_timeout_ms)}`;
  document.getElementById("settings").textContent =
    `Profile ${view.profile}; open for ${humanDuration(config.recovery_timeout_ms)}, ` +
    `each attempt timing out after ${humanDuration(config.request_timeout_ms)}.`;
}

function drawCountdown() {
  const left = openUntil - performance.now();
  document.getElementById("countdown-seconds").textContent = seconds(left);
  const bar = document.getElementById("countdown-bar");
  bar.value = openFor > 0 ? Math.max(0, left) / openFor : 0;
}

function setCountdown(remainingSeconds) {
  const countdown = document.getElementById("countdown");
  if (remainingSeconds === null) {
    openUntil = null;
    openFor = null;
    countdown.hidden = true;
    clearInterval(ticking);
    ticking = null;
    return;
  }
  const remaining = remainingSeconds * 1000;
  openUntil = performance.now() + remaining;
  openFor = Math.max(openFor ?? 0, remaining);
  countdown.hidden = false;
  drawCountdown();
  ticking ??= setInterval(drawCountdown, TICK_MS);
}

// Shows a snapshot's state; the timeline says whether a manual state ever occurred.
export function showState(snapshot, timeline) {
  const state = snapshot.state;
  document.body.dataset.state = state;
  const name = document.getElementById("state-name");
  if (name.textContent !== state.toUpperCase()) {
    name.textContent = state.toUpperCase();
  }
  // While HalfOpen, the probes of this episode that succeeded, towards the threshold.
  const progress = state === "half_open"
    ? ` Probes succeeded: ${snapshot.probe_successes} of ${successThreshold}.`
    : "";
  document.getElementById("state-meaning").textContent = (MEANING[state] ?? "") + progress;
  for (const node of document.querySelectorAll(".node")) {
    node.classList.toggle("lit", node.dataset.state === state);
  }
  const manual = state === "forced_open" || state === "disabled" || timeline.sawManualState();
  document.getElementById("manual").classList.toggle("shown", manual);
  setCountdown(state === "open" ? snapshot.remaining_seconds : null);
}
