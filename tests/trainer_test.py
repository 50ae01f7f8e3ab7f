import dataclasses
import json
import os
import unittest

import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import files, reader, truncation
from ptb_rnn.config import get_config
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import callbacks, trainer


class Recorder(callbacks.Callback):
    """Records every moment the trainer calls back, as (moment, epoch, step)."""

    def __init__(self):
        self.calls = []

    def after_call(self, progress, losses, num_steps):
        self.calls.append(("after_call", progress.epoch, progress.epoch_state.step))

    def after_epoch(self, progress):
        self.calls.append(("after_epoch", progress.epoch, progress.epoch_state.step))

    def before_evaluation(self, progress, split):
        self.calls.append((f"before_evaluation {split}", progress.epoch, None))

    def after_evaluation(self, progress):
        self.calls.append(("after_evaluation", progress.epoch, None))


def small_corpus(directory):
    """13 words; at batch_size 4, num_steps 2 the training split gives 54 windows."""
    return reader.load_corpus(helpers.random_corpus(directory, 60, 10, 12))


class TrainAndEvaluateTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path
        self.corpus = small_corpus(os.path.join(self.workdir, "corpus"))
        self.config = get_config("test", vocab_size=13, batch_size=4)

    def test_learning_rate_follows_the_schedule(self):
        config = get_config("test", vocab_size=13, max_epoch=2, max_max_epoch=4, batch_size=4)
        history = trainer.train_and_evaluate(RunSpec(config), self.corpus, self.workdir)
        self.assertEqual(history.learning_rate, [1.0, 1.0, 0.5, 0.25])
        self.assertLen(history.valid_perplexity_training_layout, 4)
        with open(os.path.join(self.workdir, files.RESULTS_FILE)) as f:
            self.assertEqual(json.load(f)["test_perplexity"], history.test_perplexity)

    def test_callbacks_are_called_after_every_call_epoch_and_before_evaluation(self):
        recorder = Recorder()
        spec = RunSpec(self.config, windows_per_call=20)
        trainer.train_and_evaluate(spec, self.corpus, self.workdir, callbacks=[recorder])
        self.assertEqual(
            recorder.calls,
            [
                ("after_call", 0, 20),
                ("after_call", 0, 40),
                ("after_call", 0, 54),
                ("after_epoch", 1, 0),
                ("before_evaluation valid", 1, None),
                ("before_evaluation test", 1, None),
                ("after_evaluation", 1, None),
            ],
        )

    def test_the_guard_runs_before_checkpoints_and_other_callbacks(self):
        # The first window is fine; the update after it, a million times too large,
        # makes the second window's loss explode.
        config = get_config("test", vocab_size=13, batch_size=4, learning_rate=1e6)
        recorder = Recorder()
        spec = RunSpec(config, checkpoint_every_steps=1, windows_per_call=1)
        with self.assertRaisesRegex(callbacks.Diverged, "epoch 1, step 2 "):
            trainer.train_and_evaluate(spec, self.corpus, self.workdir, callbacks=[recorder])
        self.assertEqual(recorder.calls, [("after_call", 0, 1)])  # never saw step 2
        with open(os.path.join(self.workdir, "checkpoints", "checkpoint")) as f:
            self.assertIn('"ckpt-1"', f.readline())  # step 1, not the diverged step 2

    def test_stop_request_saves_a_checkpoint_where_it_stopped(self):
        spec = RunSpec(self.config, checkpoint_every_steps=5)
        asked = []
        stop = callbacks.StopOnRequest(lambda: asked.append(1) or len(asked) == 3)
        with self.assertRaisesRegex(
            callbacks.Interrupted,
            r"^stopped at epoch 1, step 15 of 54, checkpoint saved in .*/checkpoints; run the "
            r"same command again to resume\.$",
        ):
            trainer.train_and_evaluate(spec, self.corpus, self.workdir, callbacks=[stop])
        with open(os.path.join(self.workdir, "checkpoints", "checkpoint")) as f:
            self.assertIn('"ckpt-3"', f.readline())  # steps 5, 10, 15
        self.assertFalse(os.path.exists(os.path.join(self.workdir, files.RESULTS_FILE)))

    def test_a_stop_asked_during_the_test_evaluation_is_honoured(self):
        spec = RunSpec(self.config, checkpoint_every_steps=100)

        class AskDuringTest(callbacks.Callback):
            asked = False

            def before_evaluation(self, progress, split):
                self.asked = self.asked or split == "test"  # a signal arriving mid-split

        ask = AskDuringTest()
        stop = callbacks.StopOnRequest(lambda: ask.asked)
        with self.assertRaisesRegex(
            callbacks.Interrupted,
            r"^stopped after the final evaluation, before writing results, checkpoint saved",
        ):
            trainer.train_and_evaluate(spec, self.corpus, self.workdir, callbacks=[stop, ask])
        self.assertFalse(os.path.exists(os.path.join(self.workdir, files.RESULTS_FILE)))

    def test_a_finished_run_is_returned_as_it_is(self):
        spec = RunSpec(self.config)
        first = trainer.train_and_evaluate(spec, self.corpus, self.workdir)
        recorder = Recorder()
        again = trainer.train_and_evaluate(spec, self.corpus, self.workdir, callbacks=[recorder])
        self.assertEqual(recorder.calls, [])
        self.assertEqual(again.to_json(), json.loads(json.dumps(first.to_json())))
        self.assertEqual(again.identity, spec.identity(self.corpus))

    def train(self, workdir, max_max_epoch, schedule=truncation.TBPTT):
        """A run with dropout (its random state is checkpointed too) of max_max_epoch epochs."""
        config = dataclasses.replace(
            self.config, keep_prob=0.5, max_epoch=1, max_max_epoch=max_max_epoch
        )
        spec = RunSpec(config, truncation=schedule, checkpoint_every_steps=20)
        return trainer.train_and_evaluate(spec, self.corpus, workdir)

    def test_a_finished_run_extended_is_the_longer_run(self):
        uninterrupted = self.train(os.path.join(self.workdir, "uninterrupted"), 2)
        extended_dir = os.path.join(self.workdir, "extended")
        one_epoch = self.train(extended_dir, 1)
        extended = self.train(extended_dir, 2)
        self.assertEqual(extended.learning_rate, [1.0, 0.5])
        for key in (
            "train_perplexity",
            "valid_perplexity_training_layout",
            "eval",
            "test_perplexity",
        ):
            self.assertEqual(getattr(extended, key), getattr(uninterrupted, key), key)
        self.assertEqual(extended.train_perplexity[0], one_epoch.train_perplexity[0])
        self.assertEqual(
            extended.valid_perplexity_training_layout[0],
            one_epoch.valid_perplexity_training_layout[0],
        )
        with open(os.path.join(extended_dir, files.RESULTS_FILE)) as f:
            written = json.load(f)
        self.assertEqual(written["config"]["max_max_epoch"], 2)
        self.assertEqual(written["test_perplexity"], uninterrupted.test_perplexity)

    def test_a_run_whose_windows_ramp_over_it_is_not_extended(self):
        ramp = truncation.Truncation(schedule=(1, 2), ramp=True)
        self.train(self.workdir, 1, ramp)
        with self.assertRaisesRegex(
            files.WorkdirError,
            "holds checkpoints of a different run \\(max_max_epoch 1 there, 2 here\\)",
        ):
            self.train(self.workdir, 2, ramp)

    def test_a_checkpoint_past_the_run_length_is_refused(self):
        self.train(self.workdir, 2)
        os.remove(os.path.join(self.workdir, files.RESULTS_FILE))
        with self.assertRaisesRegex(
            files.WorkdirError, "ckpt-\\d+ is at the end of epoch 2, past max_max_epoch 1; pass"
        ):
            self.train(self.workdir, 1)

    def test_the_log_says_what_is_evaluated_and_ends_with_where_everything_was_written(self):
        spec = RunSpec(self.config, checkpoint_every_steps=100)
        with self.assertLogs("absl", level="INFO") as logs:
            trainer.train_and_evaluate(spec, self.corpus, self.workdir)
        messages = [record.getMessage() for record in logs.records]
        # The tutorial's arithmetic: rows of len // batch_size words, windows of 2 steps.
        windows = (len(self.corpus.valid) // 4 - 1) // 2
        self.assertIn(
            f"Epoch: 1 validating: {windows} windows of batch_size 4 x num_steps 2", messages
        )
        self.assertIn("Final evaluation of the test split at batch size 1", messages)
        w = self.workdir
        self.assertEqual(
            messages[-1],
            f"Wrote {w}/results.json, {w}/model.keras (the model for evaluate, sample and "
            f"export), {w}/model.weights.h5 and the TensorBoard scalars in {w}/tensorboard; "
            f"checkpoints in {w}/checkpoints.",
        )

    def test_validation_curve_points_during_training(self):
        spec = RunSpec(self.config, windows_per_call=20, curve_points_per_epoch=2)
        history = trainer.train_and_evaluate(spec, self.corpus, self.workdir)
        # Halfway marks at windows 27 and 54; calls end at 20, 40, 54.
        self.assertEqual([point["step"] for point in history.curve], [40, 54])
        self.assertEqual([point["words"] for point in history.curve], [40 * 8, 54 * 8])
        # The last point is taken after the last update: the final evaluation's number.
        self.assertEqual(history.curve[-1]["carried"], history.eval["carried"]["valid"])
        self.assertEqual(history.curve[-1]["trained_state"], history.curve[-1]["carried"])
        self.assertLessEqual(history.curve[-1]["train_seconds"], history.train_seconds[-1])

    @unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
    def test_one_epoch_of_test_config_on_ptb(self):
        history = trainer.train_and_evaluate(
            RunSpec(get_config("test")), reader.load_corpus(helpers.PTB_DIR), self.workdir
        )
        for perplexities in (history.train_perplexity, history.valid_perplexity_training_layout):
            self.assertTrue(np.isfinite(perplexities[0]))
        # A uniform guess over 10000 words has perplexity 10000; 2 units learn word frequencies.
        self.assertLess(history.test_perplexity, 1000)
        machine = history.machine
        self.assertEqual((machine["strategy"], machine["replicas"]), ("one_device", 1))


if __name__ == "__main__":
    tf.test.main()
