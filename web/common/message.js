// message.js — a line of text that tells a person what happened, styled by its kind ("ok",
// "error", or "" for neutral) next to the classes the element already has.

export function showMessage(element, text, kind = "") {
  element.textContent = text;
  element.classList.remove("ok", "error");
  if (kind) element.classList.add(kind);
}
