"""What each training run depends on, declared once: type, default, range and help per field.

These dataclasses are torch-free, so ``vidgan train --help`` builds its flags from them
(:func:`vidgan.options.add_option_flags`) without importing torch. A config is written next to
every checkpoint and into the exported model card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vidgan.models.flow import DisPreset
from vidgan.options import check_options, option

#: The adversarial objectives registered in :data:`vidgan.train.losses.GAN_LOSSES` (a test keeps them equal).
GanLoss = Literal["lsgan", "hinge", "wgan-gp"]
#: How the output's style is compared with the paintings': patch sliced Wasserstein, patch mean and
#: covariance, both added, or Gram matrices of the VGG loss network on an image pyramid.
StyleTerm = Literal["swd", "moments", "both", "vgg"]
#: VGG layers a content term may compare (:data:`vidgan.models.lossnet.LAYERS`).
ContentLayer = Literal["relu2_2", "relu3_1"]
#: The network sizes of :mod:`vidgan.models.stylizer`, :mod:`vidgan.models.interpnet` and :mod:`vidgan.models.refine`.
Preset = Literal["lite", "full"]
#: What ``vidgan train interp`` trains: the network from scratch, or the correction of DIS's interpolation.
InterpModel = Literal["interpnet", "refine"]


@dataclass(frozen=True)
class StyleTrainingConfig:
    """Everything a style run depends on; written next to each checkpoint and into the model card."""

    name: str = option(help="style name, e.g. van_gogh")
    content: tuple[str, ...] = option(help="folders of photos (content)", nargs="+", metavar="DIR")
    style: tuple[str, ...] = option((), help="folders or image files of paintings (the style); optional with "
                                             "--teacher", nargs="+", metavar="PATH")
    videos: tuple[str, ...] = option((), help="videos or frame folders for real consecutive frames (optional)",
                                     nargs="*", metavar="PATH")
    pairs: str = option("", help="(photo, painted) pairs from `vidgan train teach`: distil the optimiser's paintings",
                        metavar="DIR")
    teacher: str = option("", help="a trained style to distil (built-in name or .safetensors file; a name "
                                   "takes its full model): the student learns to paint like it, frame after "
                                   "frame", metavar="STYLE")
    init: str = option("", help="start the generator from a trained style of the same preset (built-in name or "
                                ".safetensors file): a new painting then takes a fraction of the steps",
                       metavar="STYLE")
    lambda_teacher_l1: float = option(4.0, help="weight of the L1 between 4x area-downsampled student and "
                                                "teacher outputs (--teacher)", min=0.0)
    lambda_teacher_perceptual: float = option(6.0, help="weight of the VGG relu2_2 + relu3_1 feature term to "
                                                        "the teacher's output (--teacher; needs --loss-net)",
                                              min=0.0)
    lambda_teacher_adv: float = option(0.5, help="weight of the conditional PatchGAN over (photo, output) with "
                                                 "the teacher's (or the pairs') painting as real", min=0.0)
    preset: Preset = option("lite", help="generator size")
    steps: int = option(4000, help="training steps", min=1)
    batch: int = option(4, help="crops per step", min=1)
    crop: int = option(128, help="crop side (px)", min=4)
    image_side: int = option(360, help="short side images are kept at before cropping; match the stylize scale",
                             min=4)
    crop_scale: tuple[float, float] = option((0.35, 0.7), nargs=2, metavar=("LOW", "HIGH"),
                                             help="crop window as a fraction of the short side "
                                                  "(crop/image-side: native scale)")
    lr: float = option(5e-4, help="Adam learning rate", min=0.0)
    gan_loss: GanLoss = option("lsgan", help="adversarial objective")
    lambda_cycle: float = option(10.0, help="weight of the cycle terms", min=0.0)
    lambda_identity: float = option(0.0, help="weight of the identity terms (times the cycle weight)", min=0.0)
    lambda_temporal: float = option(30.0, help="weight of the temporal term", min=0.0)
    lambda_style: float = option(10.0, help="weight of the patch sliced-Wasserstein style term (0 turns it off)",
                                 min=0.0)
    style_term: StyleTerm = option("swd", help="statistics compared with the paintings': patch bank (swd, "
                                               "moments, both) or VGG Gram matrices (vgg; needs --loss-net)")
    style_scales: tuple[float, ...] = option((1.0, 0.5, 0.25), nargs="+", metavar="SCALE",
                                             help="image pyramid of the vgg style term (1: the crop itself)")
    style_bank: int = option(256, help="painting crops averaged into the vgg style term's Gram targets", min=1)
    lambda_content_vgg: float = option(0.0, help="weight of the VGG feature term to the input photo "
                                                 "(Johnson et al.; needs --loss-net)", min=0.0)
    content_layer: ContentLayer = option("relu2_2", help="VGG layer of the content term")
    lambda_colour: float = option(0.0, help="weight of the palette term: sliced Wasserstein distance (Lab units) "
                                            "of the output's Lab pixels to the paintings' (0 turns it off)",
                                  min=0.0)
    loss_net: str = option("", help="VGG19 loss network file (vgg19_norm_relu3_1.safetensors; "
                                    "default $VIDGAN_LOSS_NET); training time only", metavar="FILE")
    style_levels: int = option(0, help="finest pyramid bands in the style term (0: all, low-pass colours included)",
                               min=0)
    lambda_content: float = option(0.0, help="weight of the layout term (low-pass luminance kept); "
                                             "an alternative to the cycle", min=0.0)
    lambda_adv: float = option(1.0, help="weight of the adversarial terms (0: no discriminators are trained)",
                               min=0.0)
    lambda_paired: float = option(10.0, help="weight of the L1 to the pairs (4x area-downsampled, as with "
                                             "--teacher)", min=0.0)
    gp_weight: float = option(10.0, help="WGAN-GP gradient penalty weight", min=0.0)
    pool_size: int = option(50, help="history of generated images the critic sees", min=0)
    decay_from: float = option(0.5, help="share of the run after which the learning rate decays linearly",
                               min=0.0, max=1.0)
    disc_width: int = option(32, help="discriminator width", min=1)
    disc_scales: int = option(1, help="discriminator scales", min=1)
    checkpoint_every: int = option(250, help="steps between checkpoints", min=1)
    sample_every: int = option(250, help="steps between sample grids and the diversity check", min=1)
    seed: int = option(0, help="random seed")
    out: str = option("runs/style", help="run folder", cli=False)  # the command's default: runs/NAME-PRESET
    device: str = option("auto", help="auto, cpu, cuda")
    amp: bool = option(True, help="mixed precision (bf16) on CUDA", cli=False)
    compile: bool = option(False, help="torch.compile the generator step")

    def __post_init__(self) -> None:
        check_options(self)
        if not self.style and not self.teacher:
            raise ValueError("--style PATH... (the paintings) is required unless a --teacher is given")
        if self.teacher and self.pairs:
            raise ValueError("--teacher and --pairs are two ways to distil a style; give one")

    @classmethod
    def smoke(cls, content: tuple[str, ...], style: tuple[str, ...], out: str, **overrides: Any) -> StyleTrainingConfig:
        """A few steps at tiny size: proves the loop, the checkpoint round trip and finite losses."""
        settings: dict[str, Any] = dict(name="smoke", content=content, style=style, steps=4, batch=2, crop=32,
                                        disc_width=8, checkpoint_every=2, sample_every=2, out=out, device="cpu",
                                        pool_size=4)
        settings.update(overrides)
        return cls(**settings)


@dataclass(frozen=True)
class InterpTrainingConfig:
    """Everything an interpolation run depends on; stored in checkpoints and model cards."""

    name: str = option("interp", help="weights are written as NAME_PRESET.safetensors (NAME_refine_PRESET for "
                                      "--model refine)")
    model: InterpModel = option("interpnet", help="interpnet: the network from scratch; refine: a small network "
                                                  "that corrects DIS's interpolation (starts equal to model=dis)")
    sources: tuple[str, ...] = option((), help="videos and frame folders", cli=False)
    photos: tuple[str, ...] = option((), help="photo folders for synthetic triplets: layered scenes with exact, "
                                              "large motion", nargs="*", metavar="DIR")
    synthetic: float = option(0.5, help="share of synthetic triplets when photos are given", min=0.0, max=1.0)
    max_motion: int = option(24, help="largest synthetic displacement between the end frames, px per axis", min=0)
    out: str = option("runs/interp", help="run folder", cli=False)  # the command's default: runs/NAME-PRESET
    preset: Preset = option("lite", help="network size")
    steps: int = option(20_000, help="training steps", min=1)
    batch: int = option(8, help="triplets per step", min=1)
    crop: int = option(192, help="crop side (px)", min=4)
    image_side: int = option(360, help="short side frames are kept at", min=4)
    max_frames: int = option(600, help="frames kept per source", min=0)
    skips: tuple[int, ...] = option((1, 2), help="frame steps of the triplets", nargs="+", metavar="SKIPS")
    lr: float = option(3e-4, help="Adam learning rate", min=0.0)
    lambda_l1: float = option(1.0, help="weight of the L1 reconstruction term", min=0.0)
    lambda_laplacian: float = option(1.0, help="weight of the Laplacian-pyramid L1 term", min=0.0)
    lambda_adv: float = option(0.005, help="adversarial weight (0: no discriminator)", min=0.0)
    lambda_flow: float = option(0.01, help="weight of the flow distillation toward DIS flows from the true "
                                           "middle frame (0: off)", min=0.0)
    lambda_census: float = option(0.1, help="refine: weight of the census (ternary) term, robust to brightness "
                                            "(0: off)", min=0.0)
    lambda_perceptual: float = option(0.0, help="refine: weight of the VGG feature term (needs --loss-net; 0: off)",
                                      min=0.0)
    loss_net: str = option("", help="VGG19 loss network file for the perceptual term (default $VIDGAN_LOSS_NET); "
                                    "training time only", metavar="FILE")
    dis_preset: DisPreset = option("medium", help="refine: DIS preset of the motion it corrects (kept in the card)")
    disc_width: int = option(32, help="discriminator width", min=1)
    checkpoint_every: int = option(500, help="steps between checkpoints", min=1)
    seed: int = option(0, help="random seed")
    device: str = option("auto", help="auto, cpu, cuda")
    amp: bool = option(True, help="mixed precision (bf16) on CUDA", cli=False)

    def __post_init__(self) -> None:
        check_options(self)

    @classmethod
    def smoke(cls, sources: tuple[str, ...], out: str, **overrides: Any) -> InterpTrainingConfig:
        """A few steps at a tiny size: proves the loop, the checkpoint round trip and finite losses."""
        settings: dict[str, Any] = dict(steps=4, batch=2, crop=64, image_side=96, max_frames=12, checkpoint_every=2,
                                        disc_width=8)
        settings.update(overrides)
        return cls(sources=sources, out=out, **settings)


@dataclass(frozen=True)
class TeacherConfig:
    """How each photo is painted; written into the model card of a style distilled from it."""

    steps: int = option(80, help="optimisation steps per photo", min=1)
    lr: float = option(0.03, help="Adam learning rate, in logit units per step", min=0.0)
    colour: float = option(0.8, help="how far each photo's colours move to the paintings' (Lab mean and spread)",
                           min=0.0, max=1.0)
    texture_levels: int = option(3, help="pyramid bands optimised (the low-pass colours are moved globally)", min=1)
    layout: float = option(2.0, help="weight of the layout term (standardised low-pass luminance kept)", min=0.0)
    directions: int = option(32, help="sliced-Wasserstein directions per level and step", min=1)
    samples: int = option(4096, help="patch positions compared per level and step (sorting them is the cost)",
                          min=1)
    image_side: int = option(360, help="short side painted at (px); strokes keep their pixel size", min=4)
    crop: int = option(128, help="bank crops: cut at native scale from paintings kept at the image side", min=4)
    bank_crops: int = option(256, help="painting crops in the patch bank", min=1)
    pieces: int = option(2, help="native-scale windows painted per photo", min=1)
    piece: int = option(160, help="side of those windows in px; the student cuts its crops inside them", min=4)
    seed: int = option(0, help="random seed")

    def __post_init__(self) -> None:
        check_options(self)


@dataclass(frozen=True)
class PackConfig:
    """How ``vidgan train pack`` shrinks a folder."""

    image_side: int = option(360, help="short side to keep (px)", min=1)
    quality: int = option(92, help="JPEG quality", min=1, max=100)

    def __post_init__(self) -> None:
        check_options(self)
