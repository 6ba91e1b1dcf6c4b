"""Train a small CNN on the handwritten digits that scikit-learn ships (8x8 images, 10 classes),
written as a plain PyTorch program on `import tapegrad as torch`: DataLoader, nn.Module, Adam,
train()/eval(), a progress bar per epoch, then save, reload and test the model.

    python -m tapegrad.examples.digits [--epochs N] [--torch]

`--torch` runs the very same code on real PyTorch, for comparison.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digit images (scaled to [0, 1]) and labels from scikit-learn's bundled copy."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("This example needs scikit-learn for its bundled digits data: pip install scikit-learn")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    return images, digits.target.astype(np.int64)


def build(torch: Any) -> Any:
    """The model class, defined against whichever torch-like module is in use."""
    nn = torch.nn
    F = torch.nn.functional

    class DigitsCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.dropout = nn.Dropout(0.25)
            self.fc1 = nn.Linear(32 * 4 * 4, 64)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = self.dropout(torch.flatten(x, 1))
            return self.fc2(F.relu(self.fc1(x)))

    return DigitsCNN


def progress(epoch: int, done: int, total: int, loss: float, width: int = 30) -> None:
    """One line per epoch, redrawn in place: a bar, the batch count and the running loss."""
    interactive = sys.stdout.isatty()
    if not interactive and done != total:
        return  # in a log, only the finished bar
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    sys.stdout.write(f"{chr(13) if interactive else ''}epoch {epoch:2d} [{bar}] {done:3d}/{total} "
                     f"loss {loss:.4f}{end}")
    sys.stdout.flush()


def evaluate(torch: Any, model: Any, loader: Any) -> float:
    """Accuracy of the model over a loader, in eval mode without gradients."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images).argmax(dim=1)
            correct += (predicted == labels).sum().item()
            total += labels.shape[0]
    return correct / total


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead of tapegrad")
    args = parser.parse_args(argv)

    if args.torch:
        import torch
    else:
        import tapegrad as torch
    from_torch = torch.utils.data

    torch.manual_seed(args.seed)
    images, labels = load_digits_arrays()
    order = np.random.default_rng(args.seed).permutation(len(labels))
    split = int(0.8 * len(labels))
    train_idx, test_idx = order[:split], order[split:]
    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels)
    train_set = from_torch.TensorDataset(x[train_idx], y[train_idx])
    test_set = from_torch.TensorDataset(x[test_idx], y[test_idx])
    train_loader = from_torch.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = from_torch.DataLoader(test_set, batch_size=256)

    model = build(torch)()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    print(model)
    print(f"{len(train_set)} training and {len(test_set)} test images; "
          f"{sum(p.numel() for p in model.parameters())} parameters")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        running = 0.0
        for step, (batch, target) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = loss_fn(model(batch), target)
            loss.backward()
            optimizer.step()
            running += loss.item()
            progress(epoch, step, len(train_loader), running / step)
        scheduler.step()
        print(f"         train accuracy {evaluate(torch, model, train_loader):.4f}  "
              f"test accuracy {evaluate(torch, model, test_loader):.4f}")
    elapsed = time.perf_counter() - start

    path = os.path.join(tempfile.mkdtemp(), "digits_cnn.pt")
    torch.save(model.state_dict(), path)
    reloaded = build(torch)()
    reloaded.load_state_dict(torch.load(path))
    accuracy = evaluate(torch, reloaded, test_loader)
    print(f"saved to {path} and reloaded: test accuracy {accuracy:.4f} "
          f"({elapsed:.1f} s of training on {'torch' if args.torch else 'tapegrad'})")
    return accuracy


if __name__ == "__main__":
    main()
