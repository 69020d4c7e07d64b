//! The Module value this crate registers with the platform.

/// 协同办公, as the platform registers it.
pub struct OfficeModule;

impl crate::module::Module for OfficeModule {
    fn name(&self) -> &'static str {
        "office"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }
}
