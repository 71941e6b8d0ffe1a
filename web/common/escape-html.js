// escape-html.js — text made safe to put inside HTML (a label a person typed, a file name).

export function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
