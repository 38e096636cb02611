//! The kernel cache every compiling backend shares: code keyed by a kernel's structure (never
//! its sizes or constant values), bounded, least recently used evicted first, and transparent:
//! [`KernelCache::report`] lists what it holds and, for every miss, which part of the key
//! differed from the nearest cached kernel (`switchyard plan --explain-cache`).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A cache key that can explain itself: what it is, and how it differs from another key.
pub trait CacheKey: Clone + PartialEq + Send {
    /// A one-line description of the kernel structure (`f32 mul+add, inputs [walk, bcast]`).
    fn describe(&self) -> String;
    /// The parts of the key that differ from `cached`, each in words (`dtype: f64 here, f32
    /// cached`); empty when the keys are equal; `None` when the two are unrelated kernels
    /// (say, other ops), so that naming differences would not help anyone.
    fn differences(&self, cached: &Self) -> Option<Vec<String>>;
}

/// How many misses a report keeps (the newest).
const RECENT_MISSES: usize = 32;

/// A miss differing from a related cached key in more parts than this is "a new structure".
const NEAR_MISS_PARTS: usize = 3;

/// One cached kernel in a report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CacheEntry {
    /// The key, described.
    pub kernel: String,
    /// Lookups that found it.
    pub hits: u64,
}

/// One miss in a report: the kernel compiled, and why nothing cached fit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CacheMiss {
    /// The key that missed, described.
    pub kernel: String,
    /// Why: the parts that differ from the nearest cached kernel, or "cold cache", or
    /// "new kernel structure".
    pub reason: String,
}

/// What a backend's kernel cache holds and what it did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheReport {
    /// The backend owning the cache.
    pub backend: String,
    /// The most entries it keeps.
    pub capacity: usize,
    /// Lookups that found code.
    pub hits: u64,
    /// Lookups that compiled.
    pub misses: u64,
    /// Entries dropped to stay under capacity.
    pub evictions: u64,
    /// The entries, least recently used first.
    pub entries: Vec<CacheEntry>,
    /// The most recent misses, oldest first.
    pub recent_misses: Vec<CacheMiss>,
}

impl fmt::Display for CacheReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "kernel cache of {}: {} of {} entries, {} hits, {} misses, {} evictions",
            self.backend,
            self.entries.len(),
            self.capacity,
            self.hits,
            self.misses,
            self.evictions
        )?;
        for e in &self.entries {
            writeln!(f, "  cached  {} ({} hits)", e.kernel, e.hits)?;
        }
        for m in &self.recent_misses {
            writeln!(f, "  missed  {}: {}", m.kernel, m.reason)?;
        }
        Ok(())
    }
}

struct Entry<K, V> {
    key: K,
    value: Arc<V>,
    hits: u64,
}

struct Inner<K, V> {
    /// Most recently used last.
    entries: VecDeque<Entry<K, V>>,
    hits: u64,
    misses: u64,
    evictions: u64,
    recent_misses: VecDeque<CacheMiss>,
}

/// Compiled code by structure. Thread-safe; compilation runs without the lock held.
pub struct KernelCache<K, V> {
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

impl<K, V> fmt::Debug for KernelCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        write!(
            f,
            "KernelCache({} of {}, {} hits, {} misses)",
            inner.entries.len(),
            self.capacity,
            inner.hits,
            inner.misses
        )
    }
}

impl<K: CacheKey, V> KernelCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> KernelCache<K, V> {
        KernelCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
                hits: 0,
                misses: 0,
                evictions: 0,
                recent_misses: VecDeque::new(),
            }),
        }
    }

    /// The code for `key`, compiling it with `compile` on a miss.
    pub fn get_or_compile<E>(&self, key: K, compile: impl FnOnce() -> Result<V, E>) -> Result<Arc<V>, E> {
        {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pos) = inner.entries.iter().position(|e| e.key == key) {
                inner.hits += 1;
                if let Some(mut entry) = inner.entries.remove(pos) {
                    entry.hits += 1;
                    let value = entry.value.clone();
                    inner.entries.push_back(entry);
                    return Ok(value);
                }
            }
        }
        // Compile without holding the lock: other threads may look up meanwhile. Two threads
        // missing on one key both compile; the second insert finds the first and shares it.
        let value = Arc::new(compile()?);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = inner.entries.iter().find(|e| e.key == key) {
            return Ok(existing.value.clone());
        }
        let reason = miss_reason(&key, inner.entries.iter().map(|e| &e.key));
        inner.misses += 1;
        inner.recent_misses.push_back(CacheMiss { kernel: key.describe(), reason });
        if inner.recent_misses.len() > RECENT_MISSES {
            inner.recent_misses.pop_front();
        }
        if inner.entries.len() >= self.capacity {
            inner.entries.pop_front();
            inner.evictions += 1;
        }
        inner.entries.push_back(Entry { key, value: value.clone(), hits: 0 });
        Ok(value)
    }

    /// What the cache holds and did, under the backend name `backend`.
    pub fn report(&self, backend: &str) -> CacheReport {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        CacheReport {
            backend: backend.to_string(),
            capacity: self.capacity,
            hits: inner.hits,
            misses: inner.misses,
            evictions: inner.evictions,
            entries: inner
                .entries
                .iter()
                .map(|e| CacheEntry { kernel: e.key.describe(), hits: e.hits })
                .collect(),
            recent_misses: inner.recent_misses.iter().cloned().collect(),
        }
    }
}

/// Why `key` missed: the differences from the nearest cached key when it is near.
fn miss_reason<'a, K: CacheKey + 'a>(key: &K, cached: impl Iterator<Item = &'a K>) -> String {
    let mut nearest: Option<(Vec<String>, &K)> = None;
    let mut any = false;
    for k in cached {
        any = true;
        let Some(diff) = key.differences(k) else { continue };
        if nearest.as_ref().is_none_or(|(d, _)| diff.len() < d.len()) {
            nearest = Some((diff, k));
        }
    }
    match nearest {
        Some((diff, k)) if !diff.is_empty() && diff.len() <= NEAR_MISS_PARTS => {
            format!("differs from cached `{}` in {}", k.describe(), diff.join("; "))
        }
        _ if any => "new kernel structure (no cached kernel has the same ops)".to_string(),
        _ => "cold cache".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, Debug)]
    struct Key(&'static str, u8);

    impl CacheKey for Key {
        fn describe(&self) -> String {
            format!("{}/{}", self.0, self.1)
        }
        fn differences(&self, cached: &Self) -> Option<Vec<String>> {
            if self.0 != cached.0 {
                return None;
            }
            Some(if self.1 != cached.1 {
                vec![format!("width: {} here, {} cached", self.1, cached.1)]
            } else {
                vec![]
            })
        }
    }

    fn compile(v: u32) -> Result<u32, ()> {
        Ok(v)
    }

    #[test]
    fn misses_say_which_part_of_the_key_differed() {
        let cache: KernelCache<Key, u32> = KernelCache::new(2);
        cache.get_or_compile(Key("add", 4), || compile(1)).unwrap();
        cache.get_or_compile(Key("add", 4), || compile(2)).unwrap();
        cache.get_or_compile(Key("add", 2), || compile(3)).unwrap();
        let r = cache.report("toy");
        assert_eq!((r.hits, r.misses, r.evictions), (1, 2, 0));
        assert_eq!(r.recent_misses[0].reason, "cold cache");
        assert_eq!(r.recent_misses[1].reason, "differs from cached `add/4` in width: 2 here, 4 cached");
        assert_eq!(r.entries[0], CacheEntry { kernel: "add/4".into(), hits: 1 });
        // A third structure evicts the least recently used.
        cache.get_or_compile(Key("mul", 4), || compile(4)).unwrap();
        let r = cache.report("toy");
        assert_eq!(r.evictions, 1);
        assert_eq!(r.entries.iter().map(|e| e.kernel.as_str()).collect::<Vec<_>>(), ["add/2", "mul/4"]);
        let text = r.to_string();
        assert!(
            text.starts_with("kernel cache of toy: 2 of 2 entries, 1 hits, 3 misses, 1 evictions"),
            "{text}"
        );
        assert!(
            text.contains("missed  mul/4: new kernel structure (no cached kernel has the same ops)"),
            "{text}"
        );
    }

    #[test]
    fn a_hit_returns_the_cached_code_and_a_failed_compile_caches_nothing() {
        let cache: KernelCache<Key, u32> = KernelCache::new(4);
        assert_eq!(cache.get_or_compile(Key("x", 1), || Err::<u32, &str>("boom")), Err("boom"));
        assert_eq!(*cache.get_or_compile(Key("x", 1), || Ok::<u32, &str>(7)).unwrap(), 7);
        assert_eq!(*cache.get_or_compile(Key("x", 1), || Ok::<u32, &str>(8)).unwrap(), 7);
        assert_eq!(cache.report("toy").misses, 1);
    }
}
