"""Whole functions with a known mistake, planted into the Value engine by the tests of notebook 03
(tests/checks/test_value_engine.py on its small engine, tests/test_03_value_engine.py on the notebook)."""

RECURSIVE_TOPO = '''
def topological_order(root):
    order, visited = [], set()

    def build(v):
        if id(v) not in visited:
            visited.add(id(v))
            for child in v._prev:
                build(child)
            order.append(v)

    build(root)
    return order
'''
HASHED_TOPO = '''
def topological_order(root):
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node._prev))
    return order
'''
EQUALITY_TOPO = HASHED_TOPO.replace("set()", "[]").replace("visited.add", "visited.append")
DUPLICATING_TOPO = '''
def topological_order(root):
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node._prev))
    return order
'''
PREORDER_TOPO = '''
def topological_order(root):
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            order.append(node)
            stack.extend(node._prev)
    return order
'''
RECURSIVE_BACKWARD = '''
def backward(self):
    self.grad = 1.0

    def push(node):
        node._backward()
        for child in node._prev:
            push(child)

    push(self)
'''
MICROGRAD_BACKWARD = '''
def backward(self):
    topo = topological_order(self)
    self.grad {seed} 1.0
    for node in reversed(topo):
        node._backward()
'''
ZERO_ALL_BACKWARD = '''
def backward(self):
    topo = topological_order(self)
    for node in topo:
        node.grad = 0.0
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
'''
