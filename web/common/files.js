// files.js — the files a person chose in an <input type="file">, taken so that choosing the same
// file again fires `change` again.

/** The chosen files (an array, maybe empty); the input is emptied. */
export function takeFiles(input) {
  const files = [...input.files];
  input.value = "";
  return files;
}
