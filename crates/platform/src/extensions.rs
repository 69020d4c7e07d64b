//! The modules' own state, which the kernel holds without naming its types.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::cache::coherent::{Coherent, Evict};

/// The modules' own state: one value of each type, set by [`crate::module::Module::init`] when the node
/// starts and read with [`AppState::module`]. The kernel's state names no module's type.
#[derive(Default)]
pub struct Extensions {
    values: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    /// The coherent caches among them, which the kernel's feed evicts.
    pub(crate) caches: Vec<Arc<dyn Evict>>,
}

impl Extensions {
    /// Sets the value of type `T`, replacing any earlier one.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// Sets a coherent cache (read back as `Arc<Coherent<V>>`), which changes published in
    /// its scope evict on every node.
    pub fn insert_cache<V: Send + Sync + 'static>(&mut self, cache: Coherent<V>) {
        self.insert_evict(cache);
    }

    /// Sets a cache of the module's own making (read back as `Arc<T>`), which changes
    /// published in its scope reach on every node as [`Evict::evict`] calls.
    pub fn insert_evict<T: Evict + 'static>(&mut self, cache: T) {
        let cache = Arc::new(cache);
        self.caches.push(cache.clone());
        self.insert(cache);
    }

    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Counter(u32);

    #[test]
    fn extensions_hold_one_value_per_type() {
        let mut extensions = Extensions::default();
        assert_eq!(extensions.get::<Counter>(), None);
        extensions.insert(Counter(1));
        extensions.insert(Counter(2));
        extensions.insert(String::from("other"));
        assert_eq!(extensions.get::<Counter>(), Some(&Counter(2)));
        assert_eq!(
            extensions.get::<String>().map(String::as_str),
            Some("other")
        );
    }
}
