"""Executing one claimed run as a call of the user's Python function, in the agent's process.

The call gets a run context of its own (``sweepkit.tracking.context``) holding the claimed run and
the sink its reports go to, installed for the duration of the call: ``sweepkit.init()`` inside the
function attaches to that run, and what it logs goes through a ``RunReporter`` to the service. A
stop request raises ``RunStopped`` at the run's next ``log()``; an exception fails the run and the
agent goes on.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from sweepkit import env, shutdown
from sweepkit.run_reporter import RunReporter
from sweepkit.runs import RunState
from sweepkit.tracking.context import RunContext
from sweepkit.tracking.run import RunStopped
from sweepkit.tracking.sinks import ServiceSink


def execute_function(
    agent: Any, assignment: Any, function: Callable[[], object]
) -> tuple[RunState, int | None, str | None]:
    """Call ``function`` for the assignment; returns (state, exit code, error)."""
    spill = agent.workdir / ".sweepkit" / "runs" / f"{assignment.run_id}.unsent.jsonl"
    reporter = RunReporter(
        agent.service, assignment.run_id, on_fatal=agent.fatal_error, on_note=agent.say, spill_path=spill
    )
    agent.heartbeat.watch(assignment.run_id, reporter)
    context = RunContext(assignment, ServiceSink(reporter))
    state, error = RunState.FINISHED, None
    try:
        with context.installed():
            agent.in_function_call = True  # the agent's SIGTERM/SIGINT handler interrupts the call
            try:
                function()
            finally:
                agent.in_function_call = False
    except RunStopped:
        state = RunState.KILLED
    except KeyboardInterrupt:
        agent.interrupted = agent.interrupted or "interrupted (Ctrl-C)"
        state, error = RunState.KILLED, agent.interrupted
        shutdown.request(agent.interrupted)  # no wait for the store holds the agent up now
    except Exception as exc:
        # The first line says why in one line; the traceback follows.
        why = traceback.format_exception_only(type(exc), exc)[-1].strip()
        state, error = RunState.FAILED, f"{why}\n{traceback.format_exc().rstrip()}"
    finally:
        for run in context.runs.active():  # the run the function left open ends with the call
            try:
                run.finish()
            except Exception:  # noqa: BLE001 - the run's state is decided above
                pass
        agent.heartbeat.forget(assignment.run_id)
        reporter.close(timeout=env.store_retry_s())
    if agent.fatal is not None:
        raise agent.fatal
    if state == RunState.FINISHED and reporter.stop_reason is not None:
        state = RunState.KILLED  # asked to stop, and it returned before its next log()
    if state == RunState.FINISHED and reporter.fatal is not None:
        state, error = RunState.FAILED, f"its values could not be stored: {reporter.fatal}"
    state, error = reporter.ended(state, error)  # never finished with values missing
    return state, None, error
