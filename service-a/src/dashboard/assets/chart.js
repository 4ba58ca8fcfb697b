// Calls per second by outcome over the last minute, drawn as SVG stacked bars, one per snapshot
// (about one a second): each bar is the difference between two snapshots' counts over the time
// between them, so a missed snapshot only makes one bar wider.

const OUTCOMES = ["successful", "failed", "rejected", "ignored"];
const SPAN_MS = 60000;
const SVG = "http://www.w3.org/2000/svg";

// The drawing area inside the 900 x 200 view box, leaving room for the axis labels.
const LEFT = 44;
const RIGHT = 890;
const TOP = 10;
const BOTTOM = 172;

// The top of the scale: four grid steps of a round size (1, 2, 2.5, 3, 4, 5, 6 or 8 times a
// power of ten), at least 1 each.
function niceCeiling(peak) {
  const rough = Math.max(peak / 4, 1);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 3, 4, 5, 6, 8, 10]
    .map((factor) => factor * magnitude)
    .find((candidate) => candidate >= rough);
  return step * 4;
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Chart {
  constructor(svg, summary) {
    this.svg = svg;
    this.summary = summary;
    this.samples = []; // {at: performance.now(), calls: {successful, failed, ...}}
    this.draw();
  }

  // The cumulative counts of one snapshot.
  add(calls) {
    const at = performance.now();
    const last = this.samples.at(-1);
    // Counts that went down mean service A restarted: its history no longer applies.
    if (last && OUTCOMES.some((outcome) => calls[outcome] < last.calls[outcome])) {
      this.samples = [];
    }
    this.samples.push({ at, calls });
    while (this.samples.length > 2 && this.samples[1].at < at - SPAN_MS) {
      this.samples.shift();
    }
    this.draw();
  }

  // Per-second rates between successive samples: [{at, successful, failed, ...}].
  rates() {
    const rates = [];
    for (let i = 1; i < this.samples.length; i++) {
      const before = this.samples[i - 1];
      const after = this.samples[i];
      const seconds = Math.max((after.at - before.at) / 1000, 0.001);
      const rate = { since: before.at, at: after.at };
      for (const outcome of OUTCOMES) {
        rate[outcome] = (after.calls[outcome] - before.calls[outcome]) / seconds;
      }
      rates.push(rate);
    }
    return rates;
  }

  draw() {
    const now = performance.now();
    const rates = this.rates();
    const peak = Math.max(0, ...rates.map((rate) => OUTCOMES.reduce((sum, outcome) => sum + rate[outcome], 0)));
    const ceiling = niceCeiling(peak);
    const x = (at) => LEFT + ((at - (now - SPAN_MS)) / SPAN_MS) * (RIGHT - LEFT);
    const y = (value) => BOTTOM - (value / ceiling) * (BOTTOM - TOP);

    const parts = [];
    for (let i = 0; i <= 4; i++) {
      const value = (ceiling * i) / 4;
      parts.push(element("line", { x1: LEFT, x2: RIGHT, y1: y(value), y2: y(value), class: "grid" }));
      parts.push(element("text", { x: LEFT - 8, y: y(value) + 4, "text-anchor": "end", class: "axis-label" },
        Number.isInteger(value) ? String(value) : value.toFixed(1)));
    }
    for (const [secondsAgo, label] of [[60, "60 s ago"], [45, "45 s"], [30, "30 s"], [15, "15 s"], [0, "now"]]) {
      const anchor = secondsAgo === 60 ? "start" : secondsAgo === 0 ? "end" : "middle";
      parts.push(element("text", { x: x(now - secondsAgo * 1000), y: BOTTOM + 22, "text-anchor": anchor, class: "axis-label" }, label));
    }
    for (const rate of rates) {
      const width = Math.max(((rate.at - rate.since) / SPAN_MS) * (RIGHT - LEFT) - 2, 1);
      const right = x(rate.at);
      if (right - width < LEFT) continue;
      let base = 0;
      for (const outcome of OUTCOMES) {
        if (rate[outcome] <= 0) continue;
        const top = base + rate[outcome];
        parts.push(element("rect", {
          x: (right - width).toFixed(1), width: width.toFixed(1),
          y: y(top).toFixed(1), height: (y(base) - y(top)).toFixed(1),
          class: `bar ${outcome}`,
        }));
        base = top;
      }
    }
    this.svg.replaceChildren(...parts);
    this.describe(rates.at(-1), peak);
  }

  describe(latest, peak) {
    if (!latest) {
      this.summary.textContent = "No calls yet.";
      return;
    }
    const now = OUTCOMES.map((outcome) => `${latest[outcome].toFixed(0)} ${outcome}`).join(", ");
    this.summary.textContent = `Last second: ${now} calls per second. Peak over the last minute: ${peak.toFixed(0)} calls per second.`;
  }
}
