"""Models made elsewhere, in the page: `nn.loadModel(url of model.json)` runs nsfwjs's MobileNetV2
(npm) and a Teachable Machine-shaped export, and agrees with TF.js itself in the same browser on
real photographs drawn on canvases; `model.download("tfjs")` gives files TF.js opens."""

import shutil
import sys
from pathlib import Path

import pytest

import build

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "saving"))
from test_tfjs_oracle import NODE_DIR, ensure_node, photographs, run_oracle

PHOTOS = ("astronaut", "chelsea", "coffee")


@pytest.fixture(scope="module")
def models_url(tmp_path_factory):
    """A second server with the models, TF.js's browser build and the photographs as PNGs."""
    from PIL import Image

    env = ensure_node()
    folder = tmp_path_factory.mktemp("models-io")
    run_oracle(env, "make", folder / "fixtures")
    run_oracle(env, "nsfwjs", folder / "nsfwjs")
    shutil.copytree(folder / "fixtures" / "teachable", folder / "teachable")
    shutil.copytree(folder / "fixtures" / "nested", folder / "broken")
    model_json = folder / "broken" / "model.json"
    model_json.write_text(model_json.read_text().replace('"Dense"', '"GRU"'))
    shutil.copy(NODE_DIR / "node_modules/@tensorflow/tfjs/dist/tf.min.js", folder / "tf.min.js")
    (folder / "photos").mkdir()
    for name, pixels in zip(PHOTOS, photographs(224)[:len(PHOTOS)]):
        Image.fromarray((pixels * 255).round().astype("uint8")).save(folder / "photos" / f"{name}.png")
    server, url = build.start_server(folder)
    yield url
    server.shutdown()


COMPARE = """async ({base, photos}) => {
  await tf.setBackend("cpu");
  const image = (src) => new Promise((resolve, reject) => {
    const img = new Image();
    img.crossOrigin = "anonymous";
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
  const canvases = [];
  for (const name of photos) {
    const canvas = Object.assign(document.createElement("canvas"), {width: 224, height: 224});
    canvas.getContext("2d").drawImage(await image(`${base}photos/${name}.png`), 0, 0);
    canvases.push(canvas);
  }
  const scales = {nsfwjs: (t) => t.div(255), teachable: (t) => t.div(127).sub(1)};
  const results = {};
  for (const [kind, scale] of Object.entries(scales)) {
    const url = `${base}${kind}/model.json`;
    const ours = await nn.loadModel(url);
    const theirs = await tf.loadLayersModel(url);
    const differences = [], agree = [];
    for (const canvas of canvases) {
      const mine = await ours.predict(canvas);
      const input = scale(tf.browser.fromPixels(canvas).toFloat()).expandDims();
      const other = Array.from(await theirs.predict(input).data());
      differences.push(Math.max(...other.map((value, i) => Math.abs(value - mine.probabilities[i]))));
      agree.push(mine.index === other.indexOf(Math.max(...other)));
    }
    results[kind] = {differences, agree, labels: ours.labels, input: ours.input,
                     inputShape: ours.inputShape};
    await ours.dispose();
    theirs.dispose();
  }
  return results;
}"""


def _with_tfjs(page, models_url):
    if not page.evaluate("typeof tf !== 'undefined'"):
        page.add_script_tag(url=models_url + "tf.min.js")


def test_tfjs_models_run_in_the_page_as_in_tfjs(nn_page, models_url):
    _with_tfjs(nn_page, models_url)
    nn_page.set_default_timeout(600_000)
    results = nn_page.evaluate(COMPARE, {"base": models_url, "photos": list(PHOTOS)})
    nsfwjs, teachable = results["nsfwjs"], results["teachable"]
    print({kind: max(result["differences"]) for kind, result in results.items()})
    assert all(nsfwjs["agree"]) and all(teachable["agree"])
    assert max(nsfwjs["differences"]) < 1e-4
    assert max(teachable["differences"]) < 1e-4
    assert teachable["labels"] == ["Class 1", "Class 2", "Background"]
    assert teachable["input"]["height"] == 224
    assert nsfwjs["inputShape"] == [224, 224, 3]
    assert nn_page.errors == []


LOAD_ERROR = """async (url) => {
  try { await nn.loadModel(url); return null; }
  catch (error) { return {name: error.name, message: error.message}; }
}"""


def test_a_broken_tfjs_model_in_the_page_is_a_typed_error(nn_page, models_url):
    missing = nn_page.evaluate(LOAD_ERROR, models_url + "nowhere/model.json")
    assert missing["name"] == "NetworkError"
    broken = nn_page.evaluate(LOAD_ERROR, models_url + "broken/model.json")
    assert broken["name"] == "ModelFormatError" and "GRU" in broken["message"]


def test_download_tfjs_gives_files_tfjs_opens(nn_page, models_url):
    _with_tfjs(nn_page, models_url)
    result = nn_page.evaluate("""async () => {
        tf.disposeVariables();
        const model = await nn.exec(`
from nnpy import layers
nnpy.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)], seed=1)
`);
        const blobs = [], names = [];
        const create = URL.createObjectURL, click = HTMLAnchorElement.prototype.click;
        URL.createObjectURL = (blob) => { blobs.push(blob); return create(blob); };
        HTMLAnchorElement.prototype.click = function () { names.push(this.download); };
        try { await model.download("tfjs"); }
        finally { URL.createObjectURL = create; HTMLAnchorElement.prototype.click = click; }
        const files = Object.fromEntries(names.map((name, i) => [name, blobs[i]]));
        const json = JSON.parse(await files["model.json"].text());
        const theirs = await tf.loadLayersModel(tf.io.fromMemory({
            modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
            weightData: await files["weights.bin"].arrayBuffer()}));
        const x = [[0.5, -1, 2, 0.25]];
        const ours = await model.predict(x);
        return {names, ours: Array.from(ours.probabilities),
                theirs: Array.from(await theirs.predict(tf.tensor(x)).data())};
    }""")
    assert result["names"] == ["model.json", "weights.bin"]
    assert result["ours"] == pytest.approx(result["theirs"], abs=1e-5)
