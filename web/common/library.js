// library.js — nnpy.js's API (`window.nnpy`) for the modules. nnpy.js is a classic script so that
// one <script> tag is enough; a page that imports one of nnpy's modules alone gets nnpy.js here.
//
//   import nnpy from "../common/library.js";
//   const nn = await nnpy.shared();   // the page's one worker

if (!globalThis.nnpy) await import("../nnpy.js");

export default globalThis.nnpy;
