// format.js — numbers as a person reads them on nnpy's pages.

/** 0.873 -> "87%". */
export function percent(value) {
  return `${Math.round(value * 100)}%`;
}
