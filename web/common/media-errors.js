// media-errors.js — what each getUserMedia failure means and what the person in front of the
// screen can do about it, for any device the page asks for (the camera, the microphone).
//
//   throw explainMediaError(error, MICROPHONE);   // a MediaError: name, message, advice

/** A device failure a person can act on: `name` (the DOMException's, or "InsecureContextError",
 *  "PermissionTimeoutError"), `message` (what happened), `advice` (what to do about it). */
export class MediaError extends Error {
  constructor(name, message, advice) {
    super(message);
    this.name = name;
    this.advice = advice;
  }
}

// How a failure speaks of each device: its name, what it gives, what to connect, the button.
export const CAMERA = { noun: "camera", gives: "video", connect: "a webcam", button: "Start camera" };
export const MICROPHONE = { noun: "microphone", gives: "sound", connect: "a microphone or a headset", button: "Start microphone" };

function explanations({ noun, gives, connect, button }) {
  const Noun = noun[0].toUpperCase() + noun.slice(1);
  return {
    NotAllowedError: [
      `${Noun} access was blocked.`,
      `Allow the ${noun} for this site (the ${noun} icon or the padlock in the address bar, or your ` +
      `system's privacy settings), then press ${button} again.`,
    ],
    NotFoundError: [
      `No ${noun} was found.`,
      `Connect ${connect}, or switch it on in your system settings, then press ${button} again.`,
    ],
    NotReadableError: [
      `The ${noun} is there but could not be started: another app or tab is probably using it.`,
      `Close video calls and other apps or tabs that use the ${noun}, then press ${button} again.`,
    ],
    OverconstrainedError: [
      `The ${noun} cannot give the ${gives} this page asked for.`,
      `Try another ${noun}, or press ${button} again.`,
    ],
    SecurityError: [
      `The browser does not let this page use the ${noun} (a permissions policy or an embedding ` +
      `frame without allow="${noun}").`,
      `Open the page in its own tab, or ask the site owner to allow the ${noun} in the frame.`,
    ],
    AbortError: [
      `The ${noun} stopped while starting.`,
      `Press ${button} again; if it keeps failing, restart the browser.`,
    ],
    InsecureContextError: [
      `This page is not a secure context, so the browser offers no ${noun} here.`,
      "Open the page over https:// (or from localhost on this machine).",
    ],
    PermissionTimeoutError: [
      `The browser is still waiting for an answer to its ${noun} question.`,
      `Look for the ${noun} prompt near the address bar and choose Allow: the ${noun} starts as ` +
      "soon as you answer.",
    ],
  };
}

/** Any getUserMedia rejection -> a MediaError with the same name and an explanation. */
export function explainMediaError(error, device) {
  if (error instanceof MediaError) return error;
  const name = (error && error.name) || "Error";
  const [message, advice] = explanations(device)[name] ||
    [`The ${device.noun} could not start: ${(error && error.message) || error}.`, `Press ${device.button} again.`];
  return new MediaError(name, message, advice);
}

/** getUserMedia(`wanted`), and `fallback` when the device cannot give exactly that; rejects with
 *  a MediaError. If the permission prompt is not answered within `timeoutMs`,
 *  `onWaiting(MediaError "PermissionTimeoutError")` is called and the promise goes on waiting. */
export async function askForDevice(device, wanted, fallback, { timeoutMs = 10000, onWaiting = () => {} } = {}) {
  const devices = typeof navigator !== "undefined" && navigator.mediaDevices;
  if (!devices || typeof devices.getUserMedia !== "function") {
    throw explainMediaError({ name: "InsecureContextError" }, device);
  }
  const timer = setTimeout(() => onWaiting(explainMediaError({ name: "PermissionTimeoutError" }, device)), timeoutMs);
  try {
    return await devices.getUserMedia(wanted).catch((error) => {
      if (error && error.name === "OverconstrainedError") return devices.getUserMedia(fallback);
      throw error;
    });
  } catch (error) {
    throw explainMediaError(error, device);
  } finally {
    clearTimeout(timer);
  }
}
