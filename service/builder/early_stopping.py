"""Early stopping counted in optimizer steps, on a fixed validation set.

Epochs are the wrong clock for a learning curve: 50 training texts make two steps an epoch,
22,000 make 700, so an epoch patience stops small runs almost where they started. Here the
validation accuracy is checked every `every` steps; the run stops once it has taken at least
`min_steps` and `patience` steps have passed without a better check, and the weights of
the best check are restored at the end (ties go to the lower validation loss, then to the
earlier check).
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def _keras_callback():
    import keras

    return keras.callbacks.Callback


class StepStopping(_keras_callback()):
    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, *, every: int, patience: int,
                 min_steps: int, verbose: int = 0):
        super().__init__()
        self.x_val, self.y_val = x_val, np.asarray(y_val)
        self.every, self.patience, self.min_steps, self.verbose = every, patience, min_steps, verbose
        self.steps = self.best_step = 0
        self.best = (-1.0, -np.inf)   # (accuracy, -loss): larger is better
        self.best_weights = None
        self.checks: list[tuple[int, float, float]] = []

    @property
    def best_accuracy(self) -> float:
        return self.best[0]

    def on_train_batch_end(self, batch, logs=None):
        self.steps = int(self.model.optimizer.iterations.numpy())
        if self.steps % self.every:
            return
        p = np.asarray(self.model.predict_on_batch(self.x_val))
        accuracy = float(np.mean(np.argmax(p, axis=1) == self.y_val))
        loss = float(np.mean(-np.log(np.maximum(p[np.arange(len(p)), self.y_val], 1e-12))))
        self.checks.append((self.steps, accuracy, loss))
        if self.verbose:
            log.info("step %d: validation accuracy %.4f, loss %.4f", self.steps, accuracy, loss)
        if (accuracy, -loss) > self.best:
            self.best, self.best_step = (accuracy, -loss), self.steps
            self.best_weights = self.model.get_weights()
        elif self.steps >= self.min_steps and self.steps - self.best_step >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
