/// A binary min-heap of events keyed by (time, sequence number). The sequence number breaks ties in insertion
/// order, which makes the order of simultaneous events — and so the whole run — a function of the seed alone.
struct EventQueue<Element> {
    private struct Entry {
        let time: UInt64
        let sequence: UInt64
        let element: Element
        func precedes(_ other: Entry) -> Bool { (time, sequence) < (other.time, other.sequence) }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// The time of the earliest event, without removing it.
    var earliestTime: UInt64? { heap.first?.time }

    mutating func push(_ element: Element, at time: UInt64) {
        heap.append(Entry(time: time, sequence: nextSequence, element: element))
        nextSequence += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: UInt64, element: Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && heap[l].precedes(heap[smallest]) { smallest = l }
            if r < heap.count && heap[r].precedes(heap[smallest]) { smallest = r }
            guard smallest != i else { break }
            heap.swapAt(i, smallest)
            i = smallest
        }
        return (top.time, top.element)
    }
}
