import gc
import importlib

import pytest

from onestop.core.serving import YOUNG_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield threshold
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_objects_are_frozen_and_the_young_collected_less_often(restored_gc):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tune_garbage_collector()
    assert gc.get_freeze_count() > 10_000  # modules, URL patterns, models: all of start-up
    assert gc.get_threshold() == (YOUNG_THRESHOLD, restored_gc[1], restored_gc[2])


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_the_serving_entry_points_tune_the_collector(module, restored_gc):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    importlib.reload(importlib.import_module(module))
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
