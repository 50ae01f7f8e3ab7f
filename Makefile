# make train | train-2workers | test | data | lint | shapes | shapes-html | experiments |
# experiments-full | experiments-layout | bench | sample | evaluate
# Variables: CONFIG (small|medium|large|test), PTB_DIR (original PTB files, offline),
# DATA_PATH (any corpus in the tutorial's layout), DATA_DIR (TFDS data), WORKDIR, FLAGS.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
CONFIG ?= small
DATA_DIR ?= data
# Offline copy of the original PTB files, if one sits beside the project; else download.
PTB_DIR ?= $(wildcard ../shared/data/ptb)
DATA_PATH ?=
WORKDIR ?= runs/$(CONFIG)
FLAGS ?=

DATA_FLAGS := --data_dir=$(DATA_DIR) $(if $(DATA_PATH),--data_path=$(DATA_PATH),$(if $(PTB_DIR),--ptb_dir=$(PTB_DIR)))
RUFF_FLAGS := --line-length=100 --target-version=py310

# make shapes
BATCH_SIZE ?= 4
NUM_STEPS ?= 5
WINDOWS ?= 2
PNG ?= docs/shapes.png
HTML ?= docs/shapes.html

# make test: test processes (pytest-xdist); a test file runs in one of them.
TEST_PROCESSES ?= 2

# make bench
BENCH_CONFIGS ?= small

# make train-2workers: two worker processes on this machine (ports PORT0 and PORT1);
# worker 0, the chief, writes WORKDIR; worker 1's log goes to WORKDIR-worker1.log.
PORT0 ?= 23456
PORT1 ?= 23457
CLUSTER := "cluster": {"worker": ["127.0.0.1:$(PORT0)", "127.0.0.1:$(PORT1)"]}

# make sample, make evaluate: the model `make train` left in WORKDIR (its model.keras).
PRIME ?= the company said
NUM_WORDS ?= 50
TEMPERATURE ?= 0.8
TOP_K ?= 40
SEED ?= 1
NUM_SAMPLES ?= 3
# The text to score: PTB's test split by default (its perplexity is the run's test_perplexity).
TEXT ?= $(if $(DATA_PATH),$(DATA_PATH)/ptb.test.txt,$(if $(PTB_DIR),$(PTB_DIR)/ptb.test.txt))

.PHONY: install data train train-2workers test lint format shapes shapes-html experiments \
	experiments-full experiments-layout bench sample evaluate

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

data: install
	$(PYTHON) -m ptb_rnn.data $(DATA_FLAGS)

train: install
	$(PYTHON) -m ptb_rnn.train --config=$(CONFIG) $(DATA_FLAGS) --workdir=$(WORKDIR) $(FLAGS)

train-2workers: install
	mkdir -p $(dir $(WORKDIR))
	TF_CONFIG='{$(CLUSTER), "task": {"type": "worker", "index": 1}}' \
		$(PYTHON) -m ptb_rnn.train --config=$(CONFIG) $(DATA_FLAGS) --workdir=$(WORKDIR) \
		--strategy=multi_worker $(FLAGS) > $(WORKDIR)-worker1.log 2>&1 & \
	TF_CONFIG='{$(CLUSTER), "task": {"type": "worker", "index": 0}}' \
		$(PYTHON) -m ptb_rnn.train --config=$(CONFIG) $(DATA_FLAGS) --workdir=$(WORKDIR) \
		--strategy=multi_worker $(FLAGS); status=$$?; wait $$! || status=$$?; exit $$status

test: install
	PTB_DIR=$(PTB_DIR) $(PYTHON) -m pytest -q -n $(TEST_PROCESSES) --dist=loadfile

lint: install
	$(VENV)/bin/ruff check $(RUFF_FLAGS) --select=E,F,W,I,B,UP --ignore=B905 ptb_rnn tests
	$(VENV)/bin/ruff format $(RUFF_FLAGS) --check ptb_rnn tests

format: install
	$(VENV)/bin/ruff check $(RUFF_FLAGS) --select=E,F,W,I,B,UP --ignore=B905 --fix ptb_rnn tests
	$(VENV)/bin/ruff format $(RUFF_FLAGS) ptb_rnn tests

shapes: install
	$(PYTHON) -m ptb_rnn.shapes --config=$(CONFIG) $(DATA_FLAGS) --batch_size=$(BATCH_SIZE) \
		--num_steps=$(NUM_STEPS) --windows=$(WINDOWS) --png=$(PNG) $(FLAGS)

# The page that folds the first 4,000 words again in the browser (docs/shapes.html).
shapes-html: install
	$(PYTHON) -m ptb_rnn.shapes --config=$(CONFIG) $(DATA_FLAGS) --batch_size=$(BATCH_SIZE) \
		--num_steps=$(NUM_STEPS) --format=html --output=$(HTML) $(FLAGS)

experiments: install
	$(PYTHON) -m ptb_rnn.experiments --config=$(CONFIG) $(DATA_FLAGS) --output_dir=results $(FLAGS)

# Every mode on all of PTB at the rate `make experiments` picked (hours; continues where it
# stopped). Then, with nothing else running: make experiments-full FLAGS="--notrain --measure_speeds"
experiments-full: install
	$(PYTHON) -m ptb_rnn.experiments --full --config=$(CONFIG) $(DATA_FLAGS) --output_dir=results $(FLAGS)

# Batch size against time steps (about an hour; continues where it stopped). Then, with
# nothing else running: make experiments-layout FLAGS="--notrain --measure_speeds"
experiments-layout: install
	$(PYTHON) -m ptb_rnn.experiments --study=layout --config=$(CONFIG) $(DATA_FLAGS) \
		--output_dir=results $(FLAGS)

bench: install
	$(PYTHON) -m ptb_rnn.bench --configs=$(BENCH_CONFIGS) --json=results/bench.json $(FLAGS)

sample: install
	$(PYTHON) -m ptb_rnn.sample --model=$(WORKDIR) --prime="$(PRIME)" --num_words=$(NUM_WORDS) \
		--temperature=$(TEMPERATURE) --top_k=$(TOP_K) --seed=$(SEED) --num_samples=$(NUM_SAMPLES) $(FLAGS)

evaluate: install
	$(PYTHON) -m ptb_rnn.evaluate --model=$(WORKDIR) --text_file=$(TEXT) $(FLAGS)
