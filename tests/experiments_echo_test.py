"""The echo task: its stream, the answer perplexities, and reading or measuring its runs."""

import dataclasses
import os

import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import files
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.experiments import echo
from ptb_rnn.model.network import PTBModel
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History

# A small stream for run_echo: enough for a valid split of 20 rows of a 10-word window.
NUM_WORDS = 3000


class EchoStreamTest(tf.test.TestCase):
    def test_answer_repeats_the_key_delay_words_back(self):
        words, answers = echo.echo_stream(delay=5, num_words=200, seed=0)
        self.assertGreater(len(answers), 20)
        for t in answers:
            self.assertEqual(words[t - 1], "Q")
            self.assertEqual(words[t], words[t - 5])
            self.assertIn(words[t], echo.KEYS)
            self.assertTrue(all(w in echo.FILLERS for w in words[t - 4 : t - 1]))

    def test_keys_and_queries_appear_only_in_segments(self):
        words, answers = echo.echo_stream(delay=3, num_words=100, seed=1)
        keys = [i for i, w in enumerate(words) if w in echo.KEYS]
        self.assertEqual(keys, sorted([*(answers - 3), *answers]))
        self.assertEqual(words.count("Q"), len(answers))

    def test_a_delay_below_two_leaves_no_room_for_the_query(self):
        with self.assertRaisesRegex(ConfigError, "the echo delay must be at least 2, got 1"):
            echo.echo_stream(delay=1, num_words=100, seed=0)

    def test_corpus_has_thirteen_words_and_the_test_answers(self):
        corpus, answers = echo.echo_corpus(delay=5, num_words=1000)
        self.assertEqual(corpus.vocabulary_size, 13)  # 4 keys, 8 fillers, Q
        self.assertAllEqual(corpus.test[answers - 1], [corpus.word_to_id["Q"]] * len(answers))
        self.assertAllEqual(corpus.test[answers], corpus.test[answers - 5])


class AnswerPerplexitiesTest(tf.test.TestCase):
    def test_a_uniform_model_scores_the_vocabulary_size(self):
        model = helpers.tiny_model(batch_size=1, num_layers=1)  # 20 words
        for variable in model.weights:
            variable.assign(tf.zeros_like(variable))  # zero logits: p = 1/20 for every word
        ids = np.arange(31) % 20
        # delay 5 > 3 words per window: no answer has its key in the same window.
        result = echo.answer_perplexities(model, ids, np.array([6, 13, 29]), delay=5, num_steps=3)
        self.assertEqual(
            {protocol: result[protocol]["same_window"] for protocol in result},
            {"carried": None, "reset": None},
        )
        self.assertAllClose(
            {protocol: result[protocol]["earlier_window"] for protocol in result},
            {"carried": 20.0, "reset": 20.0},
        )

    def test_equals_the_models_log_probabilities_by_hand(self):
        model = helpers.tiny_model(batch_size=1, seed=0, init_scale=1.0, num_layers=1)
        ids = np.random.default_rng(0).integers(0, 20, 21)
        # delay 3, windows of 5: answers 4 and 20 have their key in the window of the word
        # before them (windows 0 and 3), answers 7 and 16 in the window before.
        answers = np.array([4, 7, 16, 20])
        result = echo.answer_perplexities(model, ids, answers, delay=3, num_steps=5)

        def log_p(start, answer):
            """log p(ids[answer]) reading ids[start:answer] from a zero state."""
            logits, _ = model(ids[np.newaxis, start:answer], model.zero_state(1))
            return float(tf.nn.log_softmax(logits[0, -1])[ids[answer]])

        def perplexity(*log_probs):
            return np.exp(-np.mean(log_probs))

        self.assertAllClose(
            result,
            {
                "carried": {
                    "same_window": perplexity(log_p(0, 4), log_p(0, 20)),
                    "earlier_window": perplexity(log_p(0, 7), log_p(0, 16)),
                },
                "reset": {  # each read from the start of its window: 0, 15 and 5, 15
                    "same_window": perplexity(log_p(0, 4), log_p(15, 20)),
                    "earlier_window": perplexity(log_p(5, 7), log_p(15, 16)),
                },
            },
            rtol=1e-5,
        )


def write_finished_run(run, test_perplexity, answers=None, identity=None):
    """A finished echo run's results.json (recording the run's identity, or identity if
    given), and answers.json if answers are given."""
    history = History(
        dataclasses.asdict(get_config("test")),
        {"carry_state": True},
        identity=identity or run.spec.identity(run.corpus),
    )
    history.add_epoch(1.0, 7.0, 6.0, 50_000.0, NUM_WORDS, 30.0, 28.0)
    history.finish({"carried": {"valid": 5.0, "test": test_perplexity}}, 60.0)
    workdir = run.workdir
    os.makedirs(workdir, exist_ok=True)
    files.write_json(os.path.join(workdir, files.RESULTS_FILE), history.to_json())
    if answers is not None:
        files.write_json(os.path.join(workdir, echo.ANSWERS_FILE), answers)


class RunEchoTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.runs_dir = self.create_tempdir().full_path
        self.runs = echo.echo_runs(RunSpec(get_config("test")), self.runs_dir, NUM_WORDS)
        self.workdirs = [run.workdir for run in self.runs]

    def test_the_runs_and_their_work_directories(self):
        self.assertEqual(
            [(r.delay, r.num_steps, r.carry_state) for r in self.runs], list(echo.ECHO_RUNS)
        )
        self.assertEqual(self.workdirs[0], os.path.join(self.runs_dir, "echo", "delay5_k10_carry"))

    def test_finished_runs_are_read_not_trained_again(self):
        answers = {
            "carried": {"same_window": None, "earlier_window": 4.2},
            "reset": {"same_window": None, "earlier_window": 4.1},
        }
        for i, run in enumerate(self.runs):
            write_finished_run(run, 6.0 + i, answers)
        rows = echo.run_echo(self.runs)
        self.assertEqual(
            [(r["delay"], r["num_steps"], r["carry_state"], r["test_perplexity"]) for r in rows],
            [(5, 10, True, 6.0), (5, 10, False, 7.0), (5, 3, True, 8.0), (5, 3, False, 9.0)],
        )
        self.assertEqual([r["answers"] for r in rows], [answers] * 4)
        self.assertEqual(sorted(os.listdir(self.workdirs[0])), ["answers.json", "results.json"])

    def test_missing_answers_are_measured_from_the_weights(self):
        for run in self.runs[1:]:
            write_finished_run(run, 6.0, {"carried": {}, "reset": {}})
        write_finished_run(self.runs[0], 6.0)
        config = get_config("small", num_layers=1, hidden_size=32, num_steps=10, vocab_size=13)
        model = PTBModel(config).build_for(1)
        for variable in model.weights:
            variable.assign(tf.zeros_like(variable))  # every word 1/13
        model.save_weights(os.path.join(self.workdirs[0], files.WEIGHTS_FILE))
        rows = echo.run_echo(self.runs)
        uniform = {"same_window": 13.0, "earlier_window": 13.0}
        self.assertAllClose(rows[0]["answers"], {"carried": uniform, "reset": uniform})
        self.assertEqual(
            files.read_json(os.path.join(self.workdirs[0], echo.ANSWERS_FILE)), rows[0]["answers"]
        )

    def test_a_finished_run_with_neither_answers_nor_weights_is_refused(self):
        write_finished_run(self.runs[0], 6.0)
        with self.assertRaisesRegex(
            ConfigError, f"neither answers.json nor model.weights.h5 .*; delete {self.workdirs[0]}"
        ):
            echo.run_echo(self.runs)

    def test_a_finished_run_of_another_seed_is_refused_before_any_trains(self):
        seed_1 = echo.echo_runs(RunSpec(get_config("test"), seed=1), self.runs_dir, NUM_WORDS)
        write_finished_run(self.runs[1], 6.0, identity=seed_1[1].spec.identity(seed_1[1].corpus))
        with self.assertRaisesRegex(
            ConfigError,
            f"^{self.workdirs[1]} holds the results.json of a different run \\(seed 1 there, 0 "
            "here\\); delete that directory to train this run there, or choose another "
            "--output_dir.$",
        ):
            echo.run_echo(self.runs)
        self.assertFalse(os.path.exists(self.workdirs[0]))  # nothing trained

    def test_without_training_only_the_runs_that_ended_are_read(self):
        write_finished_run(self.runs[2], 8.0, {"carried": {}, "reset": {}})
        rows = echo.run_echo(self.runs, train=False)
        self.assertEqual([(r["num_steps"], r["carry_state"]) for r in rows], [(3, True)])
        self.assertFalse(os.path.exists(self.workdirs[0]))


if __name__ == "__main__":
    tf.test.main()
