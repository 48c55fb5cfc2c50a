"""The physical layer: hardware models with their published parameters.

Fibre (loss, delay), free-space and satellite channels (diffraction, atmosphere, pointing,
pass geometry), detectors, sources, quantum memories with lazy exact decoherence, and the
heralding station with the single-click and Barrett–Kok schemes.

>>> from qstack.physical import Fibre, Detector, HeraldingModel
>>> m = HeraldingModel.for_link("double_click", Fibre(5e3), Fibre(5e3), Detector(0.8))
>>> round(m.success_probability, 6)   # η²/2 with η = 0.8 · 10^(−0.1)
0.201906
"""

from .detectors import Detector
from .fibre import Fibre, db_to_transmissivity, transmissivity_to_db
from .freespace import (
    FreeSpaceChannel,
    airmass,
    atmospheric_transmittance,
    collection_efficiency,
    far_field_collection_efficiency,
    gaussian_beam_radius,
    pointing_efficiency,
)
from .heralding import (
    HeraldedPair,
    HeraldingModel,
    attempts_until_success,
    click_instrument,
    single_click_alpha_for_fidelity,
    single_click_fidelity,
    single_click_success_probability,
)
from .memory import MemoryFullError, QuantumMemory
from .satellite import GRAZ, MICIUS, XINGLONG, GroundStation, SatellitePass, micius_downlink, slant_range
from .sources import SinglePhotonSource, SPDCSource, WeakCoherentSource
from .units import SPEED_OF_LIGHT, parse_quantity

__all__ = [
    "GRAZ",
    "MICIUS",
    "SPEED_OF_LIGHT",
    "XINGLONG",
    "Detector",
    "Fibre",
    "FreeSpaceChannel",
    "GroundStation",
    "HeraldedPair",
    "HeraldingModel",
    "MemoryFullError",
    "QuantumMemory",
    "SPDCSource",
    "SatellitePass",
    "SinglePhotonSource",
    "WeakCoherentSource",
    "airmass",
    "atmospheric_transmittance",
    "attempts_until_success",
    "click_instrument",
    "collection_efficiency",
    "db_to_transmissivity",
    "far_field_collection_efficiency",
    "gaussian_beam_radius",
    "micius_downlink",
    "parse_quantity",
    "pointing_efficiency",
    "single_click_alpha_for_fidelity",
    "single_click_fidelity",
    "single_click_success_probability",
    "slant_range",
    "transmissivity_to_db",
]
