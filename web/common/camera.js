// camera.js — the webcam for nnpy's pages: start it with every failure explained, stop it for
// sure, and call back on every frame. (A frame becomes the model's pixels with nnpy.readImage.)
//
//   const stream = await startCamera(video, { timeoutMs: 10000 });  // throws a CameraError
//   const stop = everyFrame(video, (now) => { ... });                // never waits for the callback's work
//   stopCamera(stream);

/** A camera failure a person can act on: `name` (the DOMException's, or "InsecureContextError",
 *  "PermissionTimeoutError"), `message` (what happened), `advice` (what to do about it). */
export class CameraError extends Error {
  constructor(name, message, advice) {
    super(message);
    this.name = name;
    this.advice = advice;
  }
}

// What each getUserMedia failure means, and what the person in front of the screen can do.
const EXPLANATIONS = {
  NotAllowedError: [
    "Camera access was blocked.",
    "Allow the camera for this site (the camera icon or the padlock in the address bar, or your " +
    "system's privacy settings), then press Start camera again.",
  ],
  NotFoundError: [
    "No camera was found.",
    "Connect a webcam, or switch it on in your system settings, then press Start camera again.",
  ],
  NotReadableError: [
    "The camera is there but could not be started: another app or tab is probably using it.",
    "Close video calls and other apps or tabs that use the camera, then press Start camera again.",
  ],
  OverconstrainedError: [
    "The camera cannot give the video this page asked for.",
    "Try another camera, or press Start camera again.",
  ],
  SecurityError: [
    "The browser does not let this page use the camera (a permissions policy or an embedding " +
    "frame without allow=\"camera\").",
    "Open the page in its own tab, or ask the site owner to allow the camera in the frame.",
  ],
  AbortError: [
    "The camera stopped while starting.",
    "Press Start camera again; if it keeps failing, restart the browser.",
  ],
  InsecureContextError: [
    "This page is not a secure context, so the browser offers no camera here.",
    "Open the page over https:// (or from localhost on this machine).",
  ],
  PermissionTimeoutError: [
    "The browser is still waiting for an answer to its camera question.",
    "Look for the camera prompt near the address bar and choose Allow: the camera starts as " +
    "soon as you answer.",
  ],
};

/** Any getUserMedia rejection -> a CameraError with the same name and an explanation. */
export function explainCameraError(error) {
  if (error instanceof CameraError) return error;
  const name = (error && error.name) || "Error";
  const [message, advice] = EXPLANATIONS[name] ||
    [`The camera could not start: ${(error && error.message) || error}.`, "Press Start camera again."];
  return new CameraError(name, message, advice);
}

/** Ask for the camera and play it in `video`. Rejects with a CameraError; if the permission prompt
 *  is not answered within `timeoutMs`, `onWaiting(CameraError "PermissionTimeoutError")` is called
 *  and the promise goes on waiting (the answer may still come). */
export async function startCamera(video, { timeoutMs = 10000, onWaiting = () => {} } = {}) {
  const devices = typeof navigator !== "undefined" && navigator.mediaDevices;
  if (!devices || typeof devices.getUserMedia !== "function") {
    throw explainCameraError({ name: "InsecureContextError" });
  }
  // Ideal, not exact, values: any camera satisfies them (an exact size could fail with
  // OverconstrainedError); a small frame is all a 64x64 model needs.
  const wanted = { video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false };
  const timer = setTimeout(() => onWaiting(explainCameraError({ name: "PermissionTimeoutError" })), timeoutMs);
  let stream;
  try {
    stream = await devices.getUserMedia(wanted).catch((error) => {
      if (error && error.name === "OverconstrainedError") return devices.getUserMedia({ video: true, audio: false });
      throw error;
    });
  } catch (error) {
    throw explainCameraError(error);
  } finally {
    clearTimeout(timer);
  }
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
  } catch (error) {
    stopCamera(stream);
    video.srcObject = null;
    throw explainCameraError(error);
  }
  return stream;
}

/** Stop every track (the camera light goes off) and detach it from `video`. */
export function stopCamera(stream, video) {
  if (stream) for (const track of stream.getTracks()) track.stop();
  if (video) video.srcObject = null;
}

/** Call `callback(now)` on every new video frame (requestVideoFrameCallback, else every display
 *  frame). The callback must not wait for slow work: start it and return. Returns `stop()`. */
export function everyFrame(video, callback) {
  let running = true;
  const perFrame = typeof video.requestVideoFrameCallback === "function";
  let handle = 0;
  const tick = (now) => {
    if (!running) return;
    handle = perFrame ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
    callback(now);
  };
  handle = perFrame ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
  return () => {
    running = false;
    if (perFrame) video.cancelVideoFrameCallback(handle);
    else cancelAnimationFrame(handle);
  };
}
