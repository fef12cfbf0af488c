"""Builds alanine dipeptide (ACE-ALA-NME) in implicit water: ff14SB with mbondi2 radii for
OBC2 generalized Born, systems/aldp_obc2/aldp_obc2.prmtop and .pdb.

The heavy atoms and hydrogens of systems/aldp/aldp.pdb are kept; OpenMM builds the ff14SB
system, ParmEd writes the AMBER topology with mbondi2 radii, and the structure is minimised
with OpenMM's own reading of that file with implicitSolvent=OBC2 (the energy tps reproduces).

    pip install openmm==8.6.1 parmed==4.3.1
    python systems/aldp_obc2/make_aldp_obc2.py
"""
import os

import openmm
import openmm.app as app
import openmm.unit as u
import parmed

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    pdb = app.PDBFile(os.path.join(ROOT, "systems", "aldp", "aldp.pdb"))
    ff = app.ForceField("amber14/protein.ff14SB.xml")
    system = ff.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff, constraints=None)
    parm = parmed.amber.AmberParm.from_structure(
        parmed.openmm.load_topology(pdb.topology, system, pdb.positions))
    parmed.tools.changeRadii(parm, "mbondi2").execute()
    prmtop = os.path.join(HERE, "aldp_obc2.prmtop")
    parm.save(prmtop, overwrite=True)
    amber = app.AmberPrmtopFile(prmtop)
    solvated = amber.createSystem(nonbondedMethod=app.NoCutoff, constraints=None,
                                  implicitSolvent=app.OBC2)
    ctx = openmm.Context(solvated, openmm.VerletIntegrator(1.0 * u.femtosecond),
                         openmm.Platform.getPlatformByName("Reference"))
    ctx.setPositions(pdb.positions)
    openmm.LocalEnergyMinimizer.minimize(ctx, 1e-3, 0)
    state = ctx.getState(getPositions=True, getEnergy=True)
    with open(os.path.join(HERE, "aldp_obc2.pdb"), "w") as f:
        app.PDBFile.writeFile(amber.topology, state.getPositions(), f)
    print("minimised energy in OBC2:", state.getPotentialEnergy())


if __name__ == "__main__":
    main()
