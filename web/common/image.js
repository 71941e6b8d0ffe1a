// image.js — a model's image (uint8, (H, W, 1) or (H, W, 3), as the worker sends it) shown on the
// page. One channel is drawn as dark ink on white, like the drawings it came from.
// (Reading pixels from the page is nnpy.js's `nnpy.readImage`: the classic entry needs it itself.)

const INK = [0.89, 0.88, 0.77]; // how far each of R, G, B falls from white at full ink: a dark blue

/** Image `index` of `array` (shape (H, W, C) or (N, H, W, C), C = 1 or 3) as an opaque ImageData. */
export function toImageData(array, index = 0) {
  const shape = array.shape.length === 4 ? array.shape.slice(1) : array.shape;
  const [height, width, channels] = shape;
  const offset = index * width * height * channels;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let k = 0; k < width * height; k++) {
    for (let c = 0; c < 3; c++) {
      const value = channels === 3 ? array[offset + 3 * k + c] : 255 - INK[c] * array[offset + k];
      rgba[4 * k + c] = value;
    }
    rgba[4 * k + 3] = 255;
  }
  return new ImageData(rgba, width, height);
}

/** Draw such an image on `canvas`, which takes the image's size. */
export function drawImage(canvas, image, index = 0) {
  const pixels = toImageData(image, index);
  canvas.width = pixels.width;
  canvas.height = pixels.height;
  canvas.getContext("2d").putImageData(pixels, 0, 0);
}
