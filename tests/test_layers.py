"""actioncore.sdk.layers' FrozenStagesMixin / NormEvalMixin: the contract model plugins rely on."""
from __future__ import annotations

from torch import nn

from actioncore.sdk.layers import FrozenStagesMixin, NormEvalMixin


def conv_bn(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))


class Staged(FrozenStagesMixin):
    def __init__(self, *, frozen_stages: int = -1, norm_eval: bool = False):
        super().__init__()
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv1 = conv_bn(2)
        self.layer1 = conv_bn(2)
        self.layer2 = conv_bn(2)
        self.layer3 = conv_bn(2)
        self.freeze_stages()


def frozen(model: nn.Module) -> set[str]:
    return {name.split(".")[0] for name, p in model.named_parameters() if not p.requires_grad}


def evaluating(model: nn.Module) -> set[str]:
    return {name for name, m in model.named_modules() if name and not m.training}


def test_frozen_stages_keep_no_gradient_and_eval_mode_whatever_train_says():
    model = Staged(frozen_stages=2)
    assert frozen(model) == {"conv1", "layer1", "layer2"}, "at construction, for the optimizer"
    assert not evaluating(model), "modes change only with train()"
    for p in model.parameters():
        p.requires_grad_(True)
    assert model.train() is model
    assert frozen(model) == {"conv1", "layer1", "layer2"}
    assert evaluating(model) == {f"{stage}{suffix}" for stage in ("conv1", "layer1", "layer2")
                                 for suffix in ("", ".0", ".1")}
    assert model.training and model.layer3.training
    assert evaluating(model.eval()) == {name for name, _ in model.named_modules() if name}


def test_nothing_is_frozen_by_default_and_norm_eval_keeps_every_batchnorm_in_eval_mode():
    assert not frozen(Staged().train()) and not evaluating(Staged().train())
    model = Staged(norm_eval=True).train()
    assert evaluating(model) == {f"{stage}.1" for stage in ("conv1", "layer1", "layer2", "layer3")}
    assert not frozen(model)


def test_norm_eval_alone():
    class Plain(NormEvalMixin):
        def __init__(self):
            super().__init__()
            self.norm_eval = True
            self.body = conv_bn(2)

    model = Plain().train()
    assert model.training and model.body[0].training and not model.body[1].training
    assert not model.train(False).body[0].training
