//! Which route the walkers follow: chosen in `[transition]` and on the command line; each
//! kind's implementation is in [`crate::route`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    /// The energy-aware spacetime geodesic.
    #[default]
    Geodesic,
    /// The paper's plain geodesic.
    Plain,
    /// No model: the reference minimum-energy route.
    Reference,
    /// The model alone: its score and a geodesic without energy.
    Learned,
}

impl RouteKind {
    /// Every route, in the order tables show them.
    pub const ALL: [RouteKind; 4] = [
        RouteKind::Geodesic,
        RouteKind::Plain,
        RouteKind::Reference,
        RouteKind::Learned,
    ];

    /// Whether the route needs a trained model.
    pub fn needs_model(self) -> bool {
        self != RouteKind::Reference
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            RouteKind::Geodesic => "geodesic",
            RouteKind::Plain => "plain",
            RouteKind::Reference => "reference",
            RouteKind::Learned => "learned",
        })
    }
}

impl FromStr for RouteKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        RouteKind::ALL
            .into_iter()
            .find(|r| r.to_string() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown route `{s}` (expected geodesic, plain, reference or learned)"
                ))
            })
    }
}
