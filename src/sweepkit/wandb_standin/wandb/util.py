"""``wandb.util`` in sweepkit's stand-in: W&B's helpers that scripts and integrations call, with real
values (``generate_id()`` gives a new id each call); see ``sweepkit.tracking.wandb_util``."""

from sweepkit.tracking.wandb_util import (  # noqa: F401
    add_import_hook,
    generate_id,
    get_full_typename,
    get_module,
    get_optional_module,
    import_module_lazy,
    is_numpy_array,
    is_pandas_data_frame,
    is_pytorch_tensor,
    isatty,
    json_dump_safer,
    json_dumps_safer,
    json_friendly,
    json_friendly_val,
    make_safe_for_json,
    mkdir_exists_ok,
    random_string,
    to_forward_slash_path,
    to_native_slash_path,
)
