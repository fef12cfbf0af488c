"""Well-tempered metadynamics of a molecule in OpenMM, written as `tps` reads it in `[data]`.

    pip install openmm
    python examples/openmm_metadynamics.py systems/aldp/aldp.prmtop systems/aldp/aldp.pdb \
        --out runs/walker_0 --ns 10 --seed 1

writes, in --out:
  trajectory.dcd   frames every --report-every steps (OpenMM's DCDReporter: none at step 0)
  colvar.dat       a PLUMED COLVAR: time (ps), the variables (rad), metad.bias (the bias the
                   frame felt, kJ/mol) and metad.rbias (that bias less c(t), Tiwary & Parrinello
                   2015: the weight exp(rbias/kT) is right for a well-tempered run at any time),
                   a record at step 0 as PLUMED writes one, and every --colvar-every steps
  fes.dat          OpenMM's free energy -(gamma/(gamma-1)) V as a PLUMED grid, 96 x 96 bins
  topology.pdb     the starting structure

and tells the `[data]` section to paste into a system file. Run it once per walker (another
--seed and --out); `tps` weights every frame by its own walker's metad.rbias.

The variables are two dihedrals named as in a system file, "RESNAME<number>:ATOM" (residues
numbered from 1 in the prmtop's order); the defaults are alanine dipeptide's phi and psi.
OpenMM's periodic bias grid holds both ends of each axis (gridWidth 97 for PLUMED's 96 bins): the
last point repeats the first and is left out of fes.dat.
"""
import argparse
import math
import os

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u

BINS = 96
PHI = "ACE1:C ALA2:N ALA2:CA ALA2:C"
PSI = "ALA2:N ALA2:CA ALA2:C NME3:N"


def atom_index(topology, name):
    """The index of "RESNAME<number>:ATOM" in `topology`."""
    residue, atom = name.split(":")
    for r in topology.residues():
        if f"{r.name}{r.index + 1}" == residue:
            for a in r.atoms():
                if a.name == atom:
                    return a.index
    raise SystemExit(f"error: no atom {name} in the topology")


def dihedral(topology, names, width):
    atoms = [atom_index(topology, n) for n in names.split()]
    force = openmm.CustomTorsionForce("theta")
    force.addTorsion(*atoms, [])
    return app.BiasVariable(force, -math.pi, math.pi, width, True, BINS + 1)


def c_of_t(bias, kt, gamma):
    """c(t) = kT ln(int exp(gamma V/((gamma-1) kT)) / int exp(V/((gamma-1) kT))) on the grid."""
    v = bias[:-1, :-1] / ((gamma - 1.0) * kt)
    top = v.max()
    return kt * (np.log(np.exp(gamma * (v - top)).sum()) + (gamma - 1.0) * top
                 - np.log(np.exp(v - top).sum()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("prmtop")
    p.add_argument("coordinates", help="PDB of the starting structure, atoms in the prmtop's order")
    p.add_argument("--out", required=True)
    p.add_argument("--ns", type=float, default=10.0)
    p.add_argument("--temperature", type=float, default=300.0, help="K")
    p.add_argument("--timestep", type=float, default=0.002, help="ps (H-bond constraints)")
    p.add_argument("--height", type=float, default=1.2, help="kJ/mol")
    p.add_argument("--width", type=float, default=0.35, help="rad")
    p.add_argument("--pace", type=int, default=250, help="steps between Gaussians")
    p.add_argument("--bias-factor", type=float, default=6.0)
    p.add_argument("--report-every", type=int, default=500, help="steps between frames")
    p.add_argument("--colvar-every", type=int, default=None, help="steps between COLVAR records "
                   "(default: every frame; must divide --report-every)")
    p.add_argument("--phi", default=PHI)
    p.add_argument("--psi", default=PSI)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--platform", default="CPU")
    a = p.parse_args()
    colvar_every = a.colvar_every or a.report_every
    if a.report_every % colvar_every:
        raise SystemExit("error: --colvar-every must divide --report-every")
    os.makedirs(a.out, exist_ok=True)

    prmtop = app.AmberPrmtopFile(a.prmtop)
    pdb = app.PDBFile(a.coordinates)
    system = prmtop.createSystem(nonbondedMethod=app.NoCutoff, constraints=app.HBonds)
    variables = [dihedral(prmtop.topology, a.phi, a.width), dihedral(prmtop.topology, a.psi, a.width)]
    temperature = a.temperature * u.kelvin
    meta = app.Metadynamics(system, variables, temperature, a.bias_factor, a.height * u.kilojoules_per_mole, a.pace)
    integrator = openmm.LangevinMiddleIntegrator(temperature, 1 / u.picosecond, a.timestep * u.picosecond)
    integrator.setRandomNumberSeed(a.seed)
    sim = app.Simulation(prmtop.topology, system, integrator, openmm.Platform.getPlatformByName(a.platform))
    sim.context.setPositions(pdb.positions)
    sim.minimizeEnergy()
    sim.context.setVelocitiesToTemperature(temperature, a.seed)
    with open(os.path.join(a.out, "topology.pdb"), "w") as f:
        app.PDBFile.writeFile(prmtop.topology, pdb.positions, f)
    sim.reporters.append(app.DCDReporter(os.path.join(a.out, "trajectory.dcd"), a.report_every))

    kt = (u.MOLAR_GAS_CONSTANT_R * temperature).value_in_unit(u.kilojoules_per_mole)
    group = {meta._force.getForceGroup()}
    steps = int(round(a.ns * 1000.0 / a.timestep))
    with open(os.path.join(a.out, "colvar.dat"), "w") as colvar:
        colvar.write("#! FIELDS time phi psi metad.bias metad.rbias\n")
        for step in range(0, steps + 1, colvar_every):
            if step > 0:
                meta.step(sim, colvar_every)
            phi, psi = meta.getCollectiveVariables(sim)
            bias = sim.context.getState(energy=True, groups=group).getPotentialEnergy()
            bias = bias.value_in_unit(u.kilojoules_per_mole)
            rbias = bias - c_of_t(meta._totalBias, kt, a.bias_factor)
            colvar.write(f" {step * a.timestep:.6f} {phi:.9f} {psi:.9f} {bias:.9f} {rbias:.9f}\n")

    # getFreeEnergy() is indexed [psi, phi]; PLUMED's grid runs phi fastest.
    free = meta.getFreeEnergy().value_in_unit(u.kilojoules_per_mole)[:-1, :-1]
    free -= free.min()
    step = 2 * math.pi / BINS
    with open(os.path.join(a.out, "fes.dat"), "w") as f:
        f.write("#! FIELDS phi psi file.free\n")
        for name in ("phi", "psi"):
            f.write(f"#! SET min_{name} -pi\n#! SET max_{name} pi\n")
            f.write(f"#! SET nbins_{name} {BINS}\n#! SET periodic_{name} true\n")
        for j in range(BINS):
            for i in range(BINS):
                f.write(f"{-math.pi + i * step:.9f} {-math.pi + j * step:.9f} {free[j, i]:.6f}\n")
            f.write("\n")
    print(f"""wrote {a.out}/: {steps // a.report_every} frames. For the system file:
[data]
trajectories = ["{a.out}/trajectory.dcd"]
colvar = ["{a.out}/colvar.dat"]
bias = "metad.rbias"
(and free_energy = "{a.out}/fes.dat" in [molecule] to use OpenMM's surface)""")


if __name__ == "__main__":
    main()
