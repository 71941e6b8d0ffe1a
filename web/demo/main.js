// main.js — the demo page (index.html), one module per part: the loading status, the XOR card, the
// digit demo (the webcam card is the <nnpy-webcam-classifier> element alone). The page is built
// from the same elements and the same `nnpy.shared()` worker a host page would use, and has no
// inline script (ready for a strict Content-Security-Policy).

import "./status.js";
import "./xor.js";
import "./digits.js";
