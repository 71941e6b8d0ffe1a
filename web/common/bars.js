// bars.js — the one renderer of a prediction's probabilities: a row per class with its name, a bar
// and a percentage; the top class marked `.top`. The page's or the element's CSS styles the rows:
//   <li class="bar"><span class="name"></span><span class="track"><span class="fill"></span></span>
//     <span class="value"></span></li>
//
//   buildBars(list, model.labels);        // once per set of classes (`list` is an <ol>)
//   showBars(list, await model.predict(x)); // each prediction; showBars(list, null) empties them

import { percent } from "./format.js";

const LONGEST_LABEL = 8; // characters a label column grows to; longer names are cut with "…"

export function buildBars(list, labels) {
  const longest = Math.max(1, ...labels.map((label) => String(label).length));
  list.style.setProperty("--label-width", `${Math.min(longest, LONGEST_LABEL) + 0.6}ch`);
  list.replaceChildren(...labels.map((label) => {
    const row = document.createElement("li");
    row.className = "bar";
    row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
    row.querySelector(".name").textContent = String(label);
    return row;
  }));
}

/** Show {probabilities, index} on the rows (null: every bar empty, no percentages). */
export function showBars(list, result) {
  [...list.children].forEach((row, i) => {
    const p = result ? result.probabilities[i] ?? 0 : 0;
    row.classList.toggle("top", Boolean(result) && i === result.index);
    row.querySelector(".fill").style.width = `${(p * 100).toFixed(1)}%`;
    row.querySelector(".value").textContent = result ? percent(p) : "";
  });
}
