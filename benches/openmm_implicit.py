"""The reference for `cargo bench -p tps-mm --bench implicit`: energy + forces of the same prmtops and
structures in OpenMM (NoCutoff, no constraints; implicitSolvent=OBC2 or vacuum) on the
Reference platform and on the CPU platform with one thread, the best of several timed windows.

    pip install openmm==8.6.1
    python benches/openmm_implicit.py
"""
import json
import os
import time

import openmm
import openmm.app as app
import openmm.unit as u

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "crates", "mm", "tests", "fixtures", "amber")


def seconds_per_evaluation(prmtop, positions, implicit, platform, properties):
    system = prmtop.createSystem(nonbondedMethod=app.NoCutoff, constraints=None,
                                 implicitSolvent=app.OBC2 if implicit else None)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName(platform), properties)
    context.setPositions(positions)
    best = float("inf")
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            context.getState(getEnergy=True, getForces=True)
            n += 1
        best = min(best, (time.perf_counter() - t0) / n)
    return best


if __name__ == "__main__":
    cases = json.load(open(os.path.join(HERE, "amber_energies.json")))["cases"]
    print("OpenMM %s" % openmm.__version__)
    for case in ("aldp_obc2", "protein_obc2"):
        prmtop = app.AmberPrmtopFile(os.path.join(HERE, cases[case]["prmtop"]))
        positions = [openmm.Vec3(*p) for p in cases[case]["frames"][0]["positions"]] * u.nanometer
        for platform, props in (("Reference", {}), ("CPU", {"Threads": "1"})):
            for implicit in (False, True):
                t = seconds_per_evaluation(prmtop, positions, implicit, platform, props)
                print(f"{case} {'obc2' if implicit else 'vacuum'} {platform}: {t * 1e3:.3f} ms")
