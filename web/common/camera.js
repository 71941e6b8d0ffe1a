// camera.js — the webcam for nnpy's pages: start it with every failure explained (media-errors.js),
// stop it for sure, and call back on every frame. (A frame becomes the model's pixels with
// nnpy.readImage.)
//
//   const stream = await startCamera(video, { timeoutMs: 10000 });  // throws a CameraError
//   const stop = everyFrame(video, (now) => { ... });                // never waits for the callback's work
//   stopCamera(stream);

import { CAMERA, askForDevice, explainMediaError } from "./media-errors.js";

/** A camera failure a person can act on (name, message, advice): see media-errors.js. */
export { MediaError as CameraError } from "./media-errors.js";

/** Any getUserMedia rejection -> a CameraError with the same name and an explanation. */
export function explainCameraError(error) {
  return explainMediaError(error, CAMERA);
}

/** Ask for the camera and play it in `video`. Rejects with a CameraError; if the permission prompt
 *  is not answered within `timeoutMs`, `onWaiting(CameraError "PermissionTimeoutError")` is called
 *  and the promise goes on waiting (the answer may still come). */
export async function startCamera(video, { timeoutMs = 10000, onWaiting = () => {} } = {}) {
  // Ideal, not exact, values: any camera satisfies them (an exact size could fail with
  // OverconstrainedError); a small frame is all a 64x64 model needs.
  const wanted = { video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false };
  const stream = await askForDevice(CAMERA, wanted, { video: true, audio: false }, { timeoutMs, onWaiting });
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
