"""Your own molecule for tps: an AMBER topology (prmtop), its structure (PDB) and a system file.

From a PDB (any protein or peptide PDBFixer can complete: missing atoms and hydrogens are
added at pH 7; ACE/NME caps kept, other heterogens, water and ions removed, which it says) or from a one-letter sequence (built extended with
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
import re
import shutil
import sys
import tempfile

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


# Residues the AMBER protein force fields parametrise: amino acids with their protonation
# variants, and the caps.
PROTEIN = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS",
           "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "HID", "HIE", "HIP", "CYX",
           "ASH", "GLH", "LYN"}
CAPS = {"ACE", "NME"}


def keep_protein(fixer):
    """Removes what is neither protein nor a cap (PDBFixer's removeHeterogens drops the caps
    too, HETATM records as they are), saying what went."""
    gone = [r for r in fixer.topology.residues() if r.name not in PROTEIN | CAPS]
    if gone:
        names = sorted({r.name for r in gone})
        print(f"removed {len(gone)} residue(s) tps does not model: {', '.join(names)}",
              file=sys.stderr)
        modeller = app.Modeller(fixer.topology, fixer.positions)
        modeller.delete(gone)
        fixer.topology, fixer.positions = modeller.topology, modeller.positions
    if not any(r.name in PROTEIN for r in fixer.topology.residues()):
        raise SystemExit("no amino-acid residue left: make_molecule.py builds proteins and "
                         "peptides (AMBER ff14SB/ff19SB) only")


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
    if not re.fullmatch(r"[A-Za-z0-9_-]+", args.name):
        raise SystemExit(f"--name {args.name!r}: use letters, digits, _ and - only")
    if args.pdb and not os.path.isfile(args.pdb):
        raise SystemExit(f"--pdb {args.pdb}: no such file")
    folder = os.path.join(ROOT, "systems", args.name)
    toml = os.path.join(ROOT, "systems", args.name + ".toml")
    if os.path.exists(folder) or os.path.exists(toml):
        raise SystemExit(f"systems/{args.name} already exists: choose another --name")
    # Everything is made in a scratch folder and moved into systems/ only when all succeeded.
    scratch = tempfile.mkdtemp(prefix=f".{args.name}.", dir=os.path.join(ROOT, "systems"))
    try:
        text = make(args, scratch)
        with open(os.path.join(scratch, "system.toml"), "w") as f:
            f.write(text)
        os.rename(os.path.join(scratch, "system.toml"), toml)
        os.rename(scratch, folder)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        if os.path.exists(toml) and not os.path.exists(folder):
            os.remove(toml)
        raise


def make(args, folder):
    """Writes the prmtop and PDB into `folder`; returns the system file's text."""
    fixer = pdbfixer.PDBFixer(args.pdb) if args.pdb else from_sequence(args.sequence)
    fixer.findMissingResidues()
    fixer.missingResidues = {}
    fixer.findNonstandardResidues()
    fixer.replaceNonstandardResidues()
    keep_protein(fixer)
    residues = list(fixer.topology.residues())
    r = args.residue - 1
    if not 0 < r < len(residues) - 1:
        raise SystemExit(f"--residue {args.residue}: needs a residue with neighbours on both "
                         f"sides (the structure has {len(residues)} residues)")
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

    phi = [f"{r}:C", f"{r + 1}:N", f"{r + 1}:CA", f"{r + 1}:C"]
    psi = [f"{r + 1}:N", f"{r + 1}:CA", f"{r + 1}:C", f"{r + 2}:N"]
    quoted = lambda atoms: ", ".join(f'"{a}"' for a in atoms)  # noqa: E731
    print(f"{len(list(amber.topology.atoms()))} atoms; minimised energy "
          f"{state.getPotentialEnergy()}; writing systems/{args.name}.toml and "
          f"systems/{args.name}/")
    return (f'''# {args.name}: {args.forcefield}, {args.solvent}, made by scripts/make_molecule.py.
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


if __name__ == "__main__":
    main()
