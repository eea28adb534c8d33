/// The jobs window of one run: a FIFO of jobs whose requirements are met, waiting for a slot.
/// Owned by the run loop; a slot is freed by the loop whenever a job's task ends, however it ends.
struct Window {
  /// The number of slots; `Int.max` when unlimited.
  let limit: Int
  private var queue: [Int32] = []
  private var head = 0

  /// `nil`, 0 or a negative size means unlimited.
  init(size: Int?) {
    if let size, size > 0 { limit = size } else { limit = .max }
  }

  /// Whether no job is waiting.
  var isEmpty: Bool { head == queue.count }

  /// Queues a job index (FIFO).
  mutating func enqueue(_ index: Int32) {
    queue.append(index)
  }

  /// The next waiting job if a slot is free, given the number of slots in use.
  mutating func next(inUse: Int) -> Int32? {
    guard inUse < limit, head < queue.count else { return nil }
    let index = queue[head]
    head += 1
    if head >= 1024 && head * 2 >= queue.count {
      queue.removeFirst(head)
      head = 0
    }
    return index
  }

  /// The jobs still waiting, in order.
  var waiting: ArraySlice<Int32> { queue[head...] }
}
