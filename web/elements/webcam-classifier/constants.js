// constants.js — the webcam element's sizes and limits, shared by its files.

export const SIZE = 64; // the model's input: the centred square of the video at 64x64 RGB
export const MIN_CLASSES = 2;
export const MAX_CLASSES = 10;
