// constants.js — the webcam element's sizes, shared by its files.

export const SIZE = 64; // the model's input: the centred square of the video at 64x64 RGB
