"""Does MedicalNet (Med3D) pretraining help 3D medical image segmentation?

The package is small on purpose, one module per pipeline step:

- ``data``: synthetic lesion volumes (smoke run) and MSD Hippocampus loaders (real run);
- ``model``: MONAI 3D ResNets and the MedicalNet-encoder U-Net;
- ``weights``: MedicalNet weights, from the Hugging Face hub or an original ``.pth`` file;
- ``train`` and ``evaluate``: training loops, Dice per class, learning-curve summaries;
- ``smoke``: the whole pipeline offline in seconds; ``__main__``: the command line.
"""

__version__ = "0.1.0"
