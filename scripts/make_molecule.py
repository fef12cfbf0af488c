"""Your own molecule for tps: an AMBER topology (prmtop), its structure (PDB) and a system file.

From a PDB (any protein or peptide PDBFixer can complete: missing atoms and hydrogens are
added at pH 7, heterogens removed) or from a one-letter sequence (built extended with
PeptideBuilder, charged termini), with an AMBER protein force field that OpenMM ships
(ff14SB) or openmmforcefields ships (ff19SB, with CMAP), in vacuum or with mbondi2 radii for
OBC2 implicit water. The structure is minimised with OpenMM's own reading of the written
prmtop, and the system file names the backbone dihedrals (φ, ψ) of one residue as its two
collective variables.

    python -m venv target/molecule && target/molecule/bin/pip install openmm==8.6.1 \
        parmed==4.3.1 pdbfixer PeptideBuilder
    # ff19SB also needs: target/molecule/bin/pip install --no-deps openmmforcefields==0.15.1
    target/molecule/bin/python scripts/make_molecule.py --sequence AAA --name triala \
        --solvent obc2 --residue 2
    tps md systems/triala.toml          # explore: out/triala/md/fes.png shows the basins
    # put the basins' (φ, ψ) under [states] in systems/triala.toml, then
    tps train systems/triala.toml && tps sample systems/triala.toml --from A --to B
"""
import argparse
import io
import os

import openmm
import openmm.app as app
import openmm.unit as u
import parmed
import pdbfixer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def from_sequence(sequence):
    import PeptideBuilder
    from Bio.PDB import PDBIO

    structure = PeptideBuilder.make_extended_structure(sequence)
    out = io.StringIO()
    writer = PDBIO()
    writer.set_structure(structure)
    writer.save(out)
    return pdbfixer.PDBFixer(pdbfile=io.StringIO(out.getvalue()))


def force_field(name):
    if name == "ff14SB":
        return app.ForceField("amber14/protein.ff14SB.xml")
    import openmmforcefields

    path = os.path.join(os.path.dirname(openmmforcefields.__file__), "ffxml", "amber",
                        "protein.ff19SB.xml")
    return app.ForceField(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--pdb", help="a PDB file to complete")
    src.add_argument("--sequence", help="one-letter amino-acid sequence, e.g. AAA")
    ap.add_argument("--name", required=True, help="system name (letters, digits, _ and -)")
    ap.add_argument("--forcefield", choices=["ff14SB", "ff19SB"], default="ff14SB")
    ap.add_argument("--solvent", choices=["vacuum", "obc2"], default="vacuum")
    ap.add_argument("--residue", type=int, default=2,
                    help="1-based residue whose backbone (φ, ψ) are the variables")
    args = ap.parse_args()

    fixer = pdbfixer.PDBFixer(args.pdb) if args.pdb else from_sequence(args.sequence)
    fixer.findMissingResidues()
    fixer.missingResidues = {}
    fixer.findNonstandardResidues()
    fixer.replaceNonstandardResidues()
    fixer.removeHeterogens(keepWater=False)
    fixer.findMissingAtoms()
    fixer.addMissingAtoms()
    ff = force_field(args.forcefield)
    fixer.addMissingHydrogens(7.0, forcefield=ff)
    system = ff.createSystem(fixer.topology, nonbondedMethod=app.NoCutoff, constraints=None)
    parm = parmed.amber.AmberParm.from_structure(
        parmed.openmm.load_topology(fixer.topology, system, fixer.positions))
    if parm.box is not None:
        raise SystemExit("the structure has a periodic box: tps computes vacuum or OBC2")
    if args.solvent == "obc2":
        parmed.tools.changeRadii(parm, "mbondi2").execute()
    folder = os.path.join(ROOT, "systems", args.name)
    os.makedirs(folder, exist_ok=True)
    prmtop = os.path.join(folder, args.name + ".prmtop")
    parm.save(prmtop, overwrite=True)

    amber = app.AmberPrmtopFile(prmtop)
    kwargs = {"implicitSolvent": app.OBC2} if args.solvent == "obc2" else {}
    solvated = amber.createSystem(nonbondedMethod=app.NoCutoff, constraints=None, **kwargs)
    ctx = openmm.Context(solvated, openmm.VerletIntegrator(1.0 * u.femtosecond),
                         openmm.Platform.getPlatformByName("Reference"))
    ctx.setPositions(fixer.positions)
    openmm.LocalEnergyMinimizer.minimize(ctx, 1.0, 0)
    state = ctx.getState(getPositions=True, getEnergy=True)
    with open(os.path.join(folder, args.name + ".pdb"), "w") as f:
        app.PDBFile.writeFile(amber.topology, state.getPositions(), f)

    residues = list(amber.topology.residues())
    r = args.residue - 1
    if not 0 < r < len(residues) - 1:
        raise SystemExit(f"--residue {args.residue}: needs a residue with neighbours on both sides")
    phi = [f"{r}:C", f"{r + 1}:N", f"{r + 1}:CA", f"{r + 1}:C"]
    psi = [f"{r + 1}:N", f"{r + 1}:CA", f"{r + 1}:C", f"{r + 2}:N"]
    quoted = lambda atoms: ", ".join(f'"{a}"' for a in atoms)  # noqa: E731
    with open(os.path.join(ROOT, "systems", args.name + ".toml"), "w") as f:
        f.write(f'''# {args.name}: {args.forcefield}, {args.solvent}, made by scripts/make_molecule.py.
name = "{args.name}"

[molecule]
prmtop = "{args.name}/{args.name}.prmtop"
coordinates = "{args.name}/{args.name}.pdb"
solvent = "{args.solvent}"
cv = [
    {{ name = "phi", atoms = [{quoted(phi)}] }},
    {{ name = "psi", atoms = [{quoted(psi)}] }},
]

[md]
temperature = 300.0
steps = 5_000_000
walkers = 2
report_every = 1000

[metadynamics]
height = 1.2
width = 0.35
pace = 500
bias_factor = 6.0

[states]                  # (φ, ψ) in rad: edit after `tps md` shows the basins
A = [-1.4, 1.0]
B = [-1.4, -0.7]
''')
    print(f"{len(list(amber.topology.atoms()))} atoms; minimised energy "
          f"{state.getPotentialEnergy()}; wrote systems/{args.name}.toml and systems/{args.name}/")


if __name__ == "__main__":
    main()
