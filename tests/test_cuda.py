"The CUDA path, where a GPU is there (skipped elsewhere, CI included): training with mixed precision and channels_last, inference moved to the GPU."
import json
import pytest, torch
from produce_classifier.data import get_dls, image_files
from produce_classifier.model import Predictor
from produce_classifier.model import make_learner
from produce_classifier.train import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

def test_trains_on_the_gpu_and_the_model_answers_on_cpu_and_gpu_alike(synth, tmp_path):
    out = tmp_path/'model.pkl'
    learn = train(synth, arch='resnet18', size=64, bs=16, epochs=8, lr=3e-3, pretrained=False, out=out, progress=False, photos='none')
    assert learn.dls.device.type == 'cuda' and learn.dls.num_workers > 0  # batch transforms on the GPU, images decoded by loader processes
    info = json.loads(out.with_suffix('.json').read_text())
    assert info['metrics']['test_accuracy'] >= 0.8  # held-out Test images
    cpu, gpu = Predictor(out), Predictor(out, device='cuda')
    assert next(gpu.model.parameters()).is_cuda and not next(cpu.model.parameters()).is_cuda
    fns = image_files(synth, 'Test')
    pc, pg = cpu.probs([cpu.load(f) for f in fns]), gpu.probs([gpu.load(f) for f in fns])
    assert (pc.argmax(1) == pg.argmax(1)).mean() >= 0.95 and abs(pc - pg).max() < 1e-2
    assert sum(p[0][0] == f.parent.name for p, f in zip(gpu.predict(fns, k=1), fns)) / len(fns) >= 0.8

def test_the_learner_uses_mixed_precision_and_channels_last_on_the_gpu(synth):
    learn = make_learner(get_dls(synth, size=64, bs=16), 'resnet18', pretrained=False)
    assert hasattr(learn, 'mixed_precision') and hasattr(learn, 'channels_last')
    x, _ = learn.dls.one_batch()
    assert x.is_cuda  # the batch transforms ran on the GPU
    learn.fit(1)
    conv = next(m for m in learn.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
