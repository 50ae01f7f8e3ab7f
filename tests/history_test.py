import glob
import json
import os

import helpers
from absl.testing import absltest

from ptb_rnn.training import history


class HistoryTest(absltest.TestCase):
    def test_json_round_trip_leaves_out_what_is_not_measured_yet(self):
        record = history.History({"num_steps": 20}, {"carry_state": True}, machine={"cores": 2})
        record.add_epoch(1.0, 269.4, 179.6, 5688.0, 929580, 170.0, 163.4)
        value = record.to_json()
        self.assertEqual(
            list(value),
            [
                "config",
                "truncation",
                "learning_rate",
                "train_perplexity",
                "valid_perplexity_training_layout",
                "train_words_per_second",
                "train_words",
                "elapsed_seconds",
                "train_seconds",
                "curve",
                "machine",
            ],
        )
        self.assertEqual(history.History.from_json(value), record)

    def test_results_older_than_the_layout_in_the_name_read_their_valid_perplexity(self):
        record = history.History({}, {})
        record.add_epoch(1.0, 269.4, 179.6, 5688.0, 929580, 170.0, 163.4)
        value = record.to_json()
        value["valid_perplexity"] = value.pop("valid_perplexity_training_layout")
        self.assertEqual(history.History.from_json(value).valid_perplexity_training_layout, [179.6])

    def test_every_committed_results_file_reads_with_its_validation_numbers(self):
        paths = glob.glob(
            os.path.join(helpers.ROOT, "results", "**", "results.json"), recursive=True
        )
        self.assertNotEmpty(paths)
        for path in paths:
            with open(path) as f:
                value = json.load(f)
            record = history.History.from_json(value)
            valid = value["valid_perplexity"]  # each was written before the new name
            self.assertEqual(record.valid_perplexity_training_layout, valid, path)
            self.assertEqual(record.eval, value.get("eval"), path)

    def test_results_older_than_the_truncation_modes_read_as_the_tutorials(self):
        value = history.History({"num_steps": 20}, {}).to_json()
        del value["truncation"]
        self.assertEqual(
            history.History.from_json(value).truncation,
            {"carry_state": True, "schedule": (), "ramp": False, "ramp_epochs": None},
        )

    def test_finish_records_the_tutorials_test_number_and_the_mean_speed(self):
        record = history.History({}, {}, machine={})
        record.add_epoch(1.0, 300.0, 200.0, 5000.0, 100, 10.0, 9.0)
        record.add_epoch(1.0, 200.0, 150.0, 7000.0, 200, 20.0, 18.0)
        evaluation = {"carried": {"valid": 150.5, "test": 140.5}, "trained_state": {}}
        record.finish(evaluation, wall_seconds=25.0)
        self.assertEqual(record.test_perplexity, 140.5)
        self.assertEqual(record.words_per_second, 6000.0)
        self.assertEqual((record.words_so_far, record.seconds_so_far), (200, 20.0))
        self.assertEqual(record.to_json()["eval"], evaluation)

    def test_machine_description_names_the_cpu_family(self):
        machine = history.machine_description()
        self.assertEqual(
            sorted(machine), ["cores", "cpu", "cpu_family", "keras", "python", "tensorflow"]
        )
        self.assertGreater(machine["cores"], 0)


if __name__ == "__main__":
    absltest.main()
