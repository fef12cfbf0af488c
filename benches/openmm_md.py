"""The reference for `cargo bench -p tps-mm --bench md`: Langevin steps per second of alanine dipeptide in
OpenMM (the same system as `systems/aldp/aldp.prmtop`: amber99sb-ildn, vacuum, no cutoff, no
constraints, 300 K, 1/ps, 1 fs) on the Reference platform and on the CPU platform with one thread.
`scripts/bench-md.sh` runs it next to the Rust bench so that the ratio comes from one window.

    pip install openmm==8.6.1
    python benches/openmm_md.py
"""
import os
import time

import openmm
import openmm.app as app
import openmm.unit as u

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def steps_per_second(platform, properties, steps, repeats=5):
    prmtop = app.AmberPrmtopFile(os.path.join(ROOT, "systems", "aldp", "aldp.prmtop"))
    pdb = app.PDBFile(os.path.join(ROOT, "systems", "aldp", "aldp.pdb"))
    system = prmtop.createSystem(nonbondedMethod=app.NoCutoff, constraints=None)
    integrator = openmm.LangevinMiddleIntegrator(300 * u.kelvin, 1 / u.picosecond,
                                                 0.001 * u.picoseconds)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName(platform),
                             properties)
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(300 * u.kelvin, 1)
    integrator.step(steps // 10)
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        integrator.step(steps)
        best = max(best, steps / (time.perf_counter() - t0))
    return best


if __name__ == "__main__":
    print("OpenMM %s" % openmm.__version__)
    print("Reference platform: %.0f steps/s" % steps_per_second("Reference", {}, 20000))
    print("CPU platform, 1 thread: %.0f steps/s" % steps_per_second("CPU", {"Threads": "1"}, 5000))
