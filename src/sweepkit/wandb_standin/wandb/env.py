"""``wandb.env`` in sweepkit's stand-in: the names of W&B's environment variables, and the helpers
that read or set them (an agent sets ``WANDB_SWEEP_ID``, ``WANDB_RUN_ID``, ... for each run)."""

import os as _os

API_KEY = "WANDB_API_KEY"
BASE_URL = "WANDB_BASE_URL"
MODE = "WANDB_MODE"
SILENT = "WANDB_SILENT"
DIR = "WANDB_DIR"
PROJECT = "WANDB_PROJECT"
ENTITY = "WANDB_ENTITY"
RUN_ID = "WANDB_RUN_ID"
RUN_GROUP = "WANDB_RUN_GROUP"
JOB_TYPE = "WANDB_JOB_TYPE"
NAME = "WANDB_NAME"
NOTES = "WANDB_NOTES"
TAGS = "WANDB_TAGS"
SWEEP_ID = "WANDB_SWEEP_ID"
SWEEP_PARAM_PATH = "WANDB_SWEEP_PARAM_PATH"
CONFIG_PATHS = "WANDB_CONFIG_PATHS"
WATCH = "WANDB_WATCH"
LOG_MODEL = "WANDB_LOG_MODEL"
RESUME = "WANDB_RESUME"
START_METHOD = "WANDB_START_METHOD"


def _getter(name):
    """W&B's ``get_*(default=None, env=None)``: the variable ``name`` of ``env`` (default: the process's)."""

    def get(default=None, env=None):
        return (env if env is not None else _os.environ).get(name, default)

    return get


get_project = _getter(PROJECT)
get_entity = _getter(ENTITY)
get_run = _getter(RUN_ID)
get_sweep_id = _getter(SWEEP_ID)
get_dir = _getter(DIR)
get_job_type = _getter(JOB_TYPE)


def set_project(value, env=None):
    (env if env is not None else _os.environ)[PROJECT] = value or "uncategorized"


def set_entity(value, env=None):
    (env if env is not None else _os.environ)[ENTITY] = value
