// The dashboard's wiring: the event stream from GET /events, the settings from GET /breaker,
// and which part of the page each event updates. The event names and payloads are documented
// in service-a/src/dashboard/mod.rs.

import { showSettings, showState } from "./state.js";
import { Chart } from "./chart.js";
import { Timeline } from "./timeline.js";
import { setUpCalls } from "./calls.js";
import { setUpAdmin } from "./admin.js";

// After a refused stream (every slot taken, service A restarting) the browser gives up on it;
// the page tries again this much later.
const RETRY_REFUSED_MS = 5000;

const chart = new Chart(document.getElementById("chart"), document.getElementById("chart-summary"));
const timeline = new Timeline(document.getElementById("timeline"), document.getElementById("timeline-empty"));

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function percent(value) {
  return value === null ? "–" : `${value.toFixed(1)} %`;
}

function showCounts(snapshot) {
  for (const [outcome, count] of Object.entries(snapshot.calls)) {
    text(`count-${outcome}`, count.toLocaleString("en"));
  }
  text("failure-rate", percent(snapshot.failure_rate));
  text("failure-count", String(snapshot.failure_count));
  text("last-failure", snapshot.last_failure ?? "none");
  const window = snapshot.window;
  document.getElementById("window-fact").hidden = window === null;
  if (window !== null) {
    text("window-rates", `${window.calls} calls, ${percent(window.failure_rate)} failed, ${percent(window.slow_call_rate)} slow`);
  }
  // The adaptive throttle's rejection probability, 0 to 1; null without a throttle.
  const probability = snapshot.rejection_probability;
  document.getElementById("throttle-fact").hidden = probability === null;
  if (probability !== null) {
    text("rejection-probability", `${percent(probability * 100)} of calls`);
  }
}

// The bulkhead's limit now (learned, with --max-concurrent adaptive) and the calls it holds.
function showBulkhead(bulkhead) {
  document.getElementById("bulkhead-fact").hidden = bulkhead === null;
  if (bulkhead !== null) {
    text("bulkhead-kind", bulkhead.adaptive ? "Adaptive limit" : "Bulkhead");
    text("bulkhead-limit", `${bulkhead.in_flight} of ${bulkhead.limit} calls in flight`);
  }
}

// With --fleet-redis: the replicas this one shares its breaker with, through Redis.
function showFleet(fleet) {
  document.getElementById("fleet-fact").hidden = fleet === null;
  if (fleet !== null) {
    const probe = fleet.probe_holder === null ? "no probe out" : `probe held by ${fleet.probe_holder}`;
    text("fleet-status", fleet.connected
      ? `${fleet.id}: ${fleet.replicas_live} replicas live, ${fleet.replicas_open} open, quorum ${fleet.quorum}, ${probe}`
      : `${fleet.id}: Redis lost, on its own breaker`);
  }
}

function setConnection(live, message) {
  document.getElementById("connection").dataset.live = String(live);
  text("connection-text", message);
}

async function loadSettings() {
  try {
    const answer = await fetch("/breaker", { signal: AbortSignal.timeout(10000) });
    const body = await answer.json();
    if (answer.ok) {
      showSettings(body);
    } else {
      text("state-meaning", body.message);
    }
  } catch (error) {
    text("state-meaning", `Could not read /breaker: ${error.message}`);
  }
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("open", () => {
    setConnection(true, "live");
    // The stream starts with the recent transitions: the timeline is rebuilt from them.
    timeline.clear();
    loadSettings();
  });
  events.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    showState(snapshot, timeline);
    showCounts(snapshot);
    showBulkhead(snapshot.bulkhead ?? null);
    showFleet(snapshot.fleet ?? null);
    chart.add(snapshot.calls);
  });
  events.addEventListener("transition", (event) => {
    timeline.add(JSON.parse(event.data));
  });
  events.addEventListener("lagged", (event) => {
    timeline.gap(JSON.parse(event.data).missed);
  });
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) {
      setConnection(false, "refused; trying again in a few seconds");
      setTimeout(connect, RETRY_REFUSED_MS);
    } else {
      setConnection(false, "reconnecting…");
    }
  });
}

setUpCalls(document.getElementById("answers"), document.getElementById("answers-empty"));
setUpAdmin();
connect();
