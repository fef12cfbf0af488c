"""Builds glycine dipeptide (ACE-GLY-NME) with amber99sb-ildn: systems/glycine/glycine.pdb and
systems/glycine/glycine.prmtop, as systems/aldp/make_aldp.py builds alanine dipeptide.

Heavy atoms are placed from standard internal coordinates (C7eq-like phi/psi), OpenMM's Modeller
adds hydrogens from the amber99sb-ildn templates, the structure is minimised (NoCutoff, no
constraints), and ParmEd writes the AMBER topology. The script checks that the prmtop gives
the same energy as the force-field XML in OpenMM before writing anything.

    pip install openmm==8.6.1 parmed==4.3.1
    python systems/glycine/make_glycine.py
"""
import io
import os
import sys

import openmm
import openmm.app as app
import openmm.unit as u
import parmed

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "aldp"))
from make_aldp import place  # noqa: E402
import numpy as np  # noqa: E402


def heavy_atoms(phi=-80.0, psi=70.0):
    ch3 = np.array([0.0, 0.0, 0.0])
    c0 = np.array([1.52, 0.0, 0.0])
    n1 = place(np.array([0.0, 1.0, 0.0]), ch3, c0, 1.33, 116.6, 180.0)
    o0 = place(n1, ch3, c0, 1.23, 121.0, 180.0)
    ca = place(ch3, c0, n1, 1.46, 121.7, 180.0)
    c1 = place(c0, n1, ca, 1.52, 111.0, phi)
    n2 = place(n1, ca, c1, 1.33, 116.6, psi)
    o1 = place(n2, ca, c1, 1.23, 121.0, 180.0)
    c2 = place(ca, c1, n2, 1.46, 121.7, 180.0)
    atoms = [("ACE", "CH3", "C", ch3), ("ACE", "C", "C", c0), ("ACE", "O", "O", o0),
             ("GLY", "N", "N", n1), ("GLY", "CA", "C", ca),
             ("GLY", "C", "C", c1), ("GLY", "O", "O", o1),
             ("NME", "N", "N", n2), ("NME", "C", "C", c2)]
    res_ids = {"ACE": 1, "GLY": 2, "NME": 3}
    lines = ["ATOM  %5d %-4s %3s A%4d    %8.3f%8.3f%8.3f  1.00  0.00          %2s"
             % (i, " " + name if len(name) < 4 else name, res, res_ids[res], *x, el)
             for i, (res, name, el, x) in enumerate(atoms, start=1)]
    return "\n".join(lines + ["END"]) + "\n"


def main():
    ff = app.ForceField("amber99sbildn.xml")
    pdb = app.PDBFile(io.StringIO(heavy_atoms()))
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.addHydrogens(ff)
    system = ff.createSystem(modeller.topology, nonbondedMethod=app.NoCutoff, constraints=None)
    reference = openmm.Platform.getPlatformByName("Reference")
    context = openmm.Context(system, openmm.VerletIntegrator(1.0 * u.femtosecond), reference)
    context.setPositions(modeller.positions)
    openmm.LocalEnergyMinimizer.minimize(context, 1e-3, 0)
    state = context.getState(getPositions=True, getEnergy=True)
    positions = state.getPositions()
    e_xml = state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)

    structure = parmed.openmm.load_topology(modeller.topology, system, xyz=positions)
    prmtop = os.path.join(HERE, "glycine.prmtop")
    structure.save(prmtop, format="amber", overwrite=True)
    amber = app.AmberPrmtopFile(prmtop)
    system2 = amber.createSystem(nonbondedMethod=app.NoCutoff, constraints=None)
    context2 = openmm.Context(system2, openmm.VerletIntegrator(1.0), reference)
    context2.setPositions(positions)
    e_prmtop = context2.getState(getEnergy=True).getPotentialEnergy().value_in_unit(
        u.kilojoule_per_mole)
    print("minimised energy: xml %.6f kJ/mol, prmtop %.6f kJ/mol" % (e_xml, e_prmtop))
    assert abs(e_xml - e_prmtop) < 1e-4 * max(1.0, abs(e_xml)), "prmtop disagrees with the XML"
    with open(os.path.join(HERE, "glycine.pdb"), "w") as f:
        app.PDBFile.writeFile(modeller.topology, positions, f)


if __name__ == "__main__":
    main()
