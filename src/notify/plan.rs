//! Who is told what when a case completes (to be built).
