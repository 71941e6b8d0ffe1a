// constants.js — the webcam element's sizes and its pretrained network, shared by its files.

// Frames go to Python as the centred square of the video at the project's image_size (its state
// says: 160 in pretrained mode, 64 from scratch); this is the size before a project is known.
export const SIZE = 64;
// The pretrained backbone: EfficientNet-Lite0 (ImageNet), put into the site by `build.py vendor`.
export const BACKBONE_URL = new URL("../../models/efficientnet-lite0.safetensors", import.meta.url).href;
export const BACKBONE_KEY = "efficientnet-lite0";
