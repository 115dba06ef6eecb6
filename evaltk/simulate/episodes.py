"""Episode rows: one per mental-health incident, in the canonical schema, streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from evaltk.episodes.schema import EPISODE_FIELDS, PLACES_OF_SAFETY, REFERRALS
from evaltk.simulate.backbone import Backbone, build_backbone
from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.forces import force_number
from evaltk.simulate.ids import episode_ids, fixed_width_strings, pseudonyms
from evaltk.simulate.journeys import draw_follow_ons, journeys_on
from evaltk.simulate.people import PersonPool, build_pool
from evaltk.simulate.randomness import Stream, rng
from evaltk.simulate.rates import ED, SUITE

#: Most rows in one chunk from :func:`iter_episode_chunks` (a force is split by calendar year).
MAX_CHUNK_ROWS = 2_000_000

_ARROW_TYPES = {
    "id": pa.string(),
    "text": pa.string(),
    "category": pa.string(),
    "timestamp": pa.timestamp("ms"),
    "bool": pa.bool_(),
    "number": pa.float64(),
}
#: Arrow schema of simulated episodes, derived from the canonical episode fields.
EPISODE_SCHEMA = pa.schema(
    [pa.field(f.name, _ARROW_TYPES[f.kind], nullable=not f.required) for f in EPISODE_FIELDS]
)

# Mental-health incidents are fewest before dawn and most in the afternoon and evening.
_HOUR_WEIGHTS = np.array(
    [3.5, 3.0, 2.5, 2.0, 1.5, 1.2, 1.2, 1.5, 2.5, 3.2, 3.8, 4.2,
     4.5, 4.7, 5.0, 5.3, 5.6, 5.8, 5.9, 6.0, 6.0, 5.8, 5.2, 4.5]
)  # fmt: skip
_HOUR_CDF = np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()
_PLACES = pa.array(PLACES_OF_SAFETY, pa.string())
_REFERRALS = pa.array(REFERRALS, pa.string())
_MS_PER_SECOND, _SECONDS_PER_DAY = 1000, 86400


def iter_episode_chunks(
    config: SimulationConfig, max_rows: int = MAX_CHUNK_ROWS
) -> Iterator[pa.Table]:
    """Simulated episodes, force by force, as Arrow tables in the canonical episode schema.

    Parameters
    ----------
    config
        The simulation settings.
    max_rows
        Largest chunk. A force with more rows is split at calendar-year boundaries (a single
        year larger than this is yielded whole). The rows do not depend on ``max_rows``.

    Yields
    ------
    pyarrow.Table
        Rows of one force, ordered by ``timestamp`` (with journeys on, a follow-on report of a
        late-December incident may fall in January and ends its year's chunk); forces in
        config order. Memory use is
        bounded by the chunk size, so a national dataset can be streamed to disk.
    """
    backbone = build_backbone(config)
    for index in range(len(config.forces)):
        yield from force_episode_chunks(config, backbone, index, max_rows)


def force_episode_chunks(
    config: SimulationConfig, backbone: Backbone, index: int, max_rows: int = MAX_CHUNK_ROWS
) -> Iterator[pa.Table]:
    """The chunks of one force (position ``index`` in ``config.forces``)."""
    force = config.forces[index]
    pool = build_pool(config, force, float(backbone.expected_counterfactual[index].mean()))
    years = backbone.periods.astype("datetime64[Y]")
    pending: list[pa.Table] = []
    n_pending = next_sequence = 0
    for year in np.unique(years):
        months = np.flatnonzero(years == year)
        table = _year_episodes(config, backbone, index, pool, months, next_sequence)
        next_sequence += table.num_rows
        if pending and n_pending + table.num_rows > max_rows:
            yield pa.concat_tables(pending)
            pending, n_pending = [], 0
        pending.append(table)
        n_pending += table.num_rows
    yield pa.concat_tables(pending) if pending else EPISODE_SCHEMA.empty_table()


def _year_episodes(
    config: SimulationConfig,
    backbone: Backbone,
    index: int,
    pool: PersonPool,
    months: np.ndarray,
    first_sequence: int,
) -> pa.Table:
    """One force's episodes in one calendar year (its own random stream)."""
    force = config.forces[index]
    periods = backbone.periods[months]
    draw = rng(config.seed, Stream.EPISODES, force_number(force), int(periods[0].astype(int)))
    counts = draw.poisson(backbone.expected[index, months])
    n = int(counts.sum())
    # Draw every uniform and normal at once, in a fixed order, so the rows depend only on the
    # seed; changing an effect moves thresholds, not draws (common random numbers).
    u = draw.random((15, n))
    z = draw.standard_normal((2, n))
    month = np.repeat(np.arange(len(months)), counts)
    treated = np.repeat(backbone.treated[index, months], counts)
    attended = treated & (u[0] < config.coverage)
    g = attended.astype(np.intp)  # column of the solved rates: 0 unattended, 1 attended
    r = backbone.rates

    def p(param: np.ndarray) -> np.ndarray:
        return param[index][g]

    s136 = u[1] < p(r.s136)
    place = np.where(s136, np.searchsorted(np.cumsum(r.place_shares), u[2], side="right"), -1)
    place = np.minimum(place, len(PLACES_OF_SAFETY) - 1)
    to_ed = place == ED
    ae = to_ed | (u[3] < p(r.other_ae))
    at_hospital = ae | (place == SUITE)
    ambulance = u[4] < p(r.ambulance_conveyance)
    any_referral = u[5] < p(r.referral)
    kind = np.searchsorted(np.cumsum(r.referral_shares), u[6], side="right")
    referral = np.where(any_referral, 1 + np.minimum(kind, len(REFERRALS) - 2), 0)
    missing = u[7] < p(r.missing_person)
    arrest = u[8] < p(r.arrest)
    admitted = u[9] < np.where(s136, p(r.admitted_s136), p(r.admitted_other))
    waited = at_hospital & (u[10] < r.p_wait)
    wait = np.where(waited, _minutes(p(r.wait_mean), r.wait_sigma, z[0]), 0.0)
    officer = _minutes(p(r.scene_mean), r.officer_sigma, z[1]) + wait

    # Uniform day of the month, hour from the daily profile, second within the hour.
    month_start = periods.astype("datetime64[s]")
    days = ((periods + 1).astype("datetime64[D]") - periods.astype("datetime64[D]")).astype(int)
    day = np.floor(u[11] * days[month]).astype(np.int64)
    hour = np.searchsorted(_HOUR_CDF, u[12], side="right").clip(0, 23)
    second = np.floor(u[13] * 3600).astype(np.int64)
    epoch_seconds = month_start.astype(np.int64)[month] + day * _SECONDS_PER_DAY
    epoch_seconds += hour * 3600 + second
    study_start = backbone.periods[0].astype("datetime64[s]").astype(np.int64)
    person = pool.assign(u[14], epoch_seconds - study_start)

    if journeys_on(config):
        # Missing-person reports that follow a detention or an admission (their own stream:
        # the rows above are the same with journeys on or off).
        f = draw_follow_ons(
            config, force_number(force), int(periods[0].astype(int)), s136, admitted
        )
        k = len(f.parent)
        f_treated = treated[f.parent]
        f_attended = f_treated & (f.attended_u < config.coverage)
        f_scene = r.scene_mean[index][f_attended.astype(np.intp)]
        no, empty = np.zeros(k, dtype=bool), np.zeros(k, dtype=np.int64)
        epoch_seconds = np.concatenate([epoch_seconds, epoch_seconds[f.parent] + f.delay_seconds])
        person = np.concatenate([person, person[f.parent]])
        treated = np.concatenate([treated, f_treated])
        attended = np.concatenate([attended, f_attended])
        s136, ae, ambulance, arrest, admitted = (
            np.concatenate([a, no]) for a in (s136, ae, ambulance, arrest, admitted)
        )
        missing = np.concatenate([missing, np.ones(k, dtype=bool)])
        place = np.concatenate([place, empty - 1])
        referral = np.concatenate([referral, empty])
        wait = np.concatenate([wait, np.zeros(k)])
        officer = np.concatenate([officer, _minutes(f_scene, r.officer_sigma, f.minutes_z)])
        n += k

    order = np.argsort(epoch_seconds, kind="stable")
    sequence = first_sequence + np.arange(n, dtype=np.int64)
    person_key = (np.int64(pool.force_no) << np.int64(40)) | person[order]
    columns = {
        "episode_id": episode_ids(force, sequence),
        "person_id": pseudonyms(person_key, config.seed),
        "force": fixed_width_strings(np.broadcast_to(_ascii(force), (n, len(force)))),
        "timestamp": pa.array(epoch_seconds[order] * _MS_PER_SECOND, pa.timestamp("ms")),
        "triage_available": pa.array(treated[order]),
        "triage_attended": pa.array(attended[order]),
        "s136": pa.array(s136[order]),
        "place_of_safety": _PLACES.take(pa.array(place[order], mask=place[order] < 0)),
        "ae_conveyance": pa.array(ae[order]),
        "ambulance_conveyance": pa.array(ambulance[order]),
        "referral": _REFERRALS.take(pa.array(referral[order])),
        "missing_person": pa.array(missing[order]),
        "arrest": pa.array(arrest[order]),
        "officer_minutes": pa.array(officer[order]),
        "hospital_wait_minutes": pa.array(wait[order]),
        "admitted_72h": pa.array(admitted[order]),
    }
    return pa.Table.from_arrays([columns[f.name] for f in EPISODE_SCHEMA], schema=EPISODE_SCHEMA)


def _ascii(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8)


def _minutes(mean: np.ndarray, sigma: float, z: np.ndarray) -> np.ndarray:
    """Whole minutes (at least 1) from a lognormal with the given mean, via normal draws ``z``."""
    raw = np.exp(np.log(mean) - sigma**2 / 2 + sigma * z)
    return np.maximum(np.rint(raw), 1.0)
